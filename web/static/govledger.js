// Starts GOV.UK Frontend's components. A file, not an inline script, so the
// Content-Security-Policy can say script-src 'self'.
import { initAll } from './govuk/govuk-frontend.min.js'

initAll()

// A background job's page (transfer/job.html, jobs/job.html) reloads itself without JavaScript (a
// meta refresh in <noscript>); with it, only the job's status is fetched and swapped in,
// so the page keeps its place, until the job ends.
const job = document.getElementById('job-status')
if (job && job.dataset.jobRefresh) {
  const seconds = Number(job.dataset.jobRefresh)
  const refresh = async () => {
    const response = await fetch(window.location.href, { headers: { Accept: 'text/html' } })
    if (!response.ok) return
    const page = new DOMParser().parseFromString(await response.text(), 'text/html')
    const fresh = page.getElementById('job-status')
    if (!fresh) return
    job.innerHTML = fresh.innerHTML
    if (fresh.dataset.jobRefresh) window.setTimeout(refresh, seconds * 1000)
    else { delete job.dataset.jobRefresh; initAll({ scope: job }) }
  }
  window.setTimeout(refresh, seconds * 1000)
}
