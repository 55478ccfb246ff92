// Names for the controls Datasette's templates leave unlabelled (projections.datasette_look).
// Only names (and focus for a scrolling table) are added: every control works the same
// without this script.

const NAMES = [
  ["select[name=_filter_column]", "Column to filter on"],
  ["select[name^=_filter_column_]", "Column to filter on"],
  ["select[name=_filter_op]", "How to compare"],
  ["select[name^=_filter_op_]", "How to compare"],
  ["input.filter-value", "Value to compare with"],
  ["select[name=_sort]", "Sort by"],
  ["textarea#sql-editor", "SQL query"],
  ["textarea[name=sql]", "SQL query"],
  [".cm-content", "SQL query"],
  [".CodeMirror textarea", "SQL query"],
  ["details.actions-menu-links > summary", "Actions"],
  ["details[title='Click to view actions'] > summary", "Actions"],
  ["details.nav-menu > summary", "Menu"],
];

function label(root) {
  for (const [selector, name] of NAMES) {
    for (const element of root.querySelectorAll(selector)) {
      if (!element.labels?.length && !element.getAttribute("aria-label")) {
        element.setAttribute("aria-label", name);
      }
    }
  }
  // A table that scrolls sideways in its own box (data.css) takes the keyboard's focus,
  // as the app's tables do (web/templates/_regions.html).
  for (const box of root.querySelectorAll(".table-wrapper")) {
    if (!box.hasAttribute("tabindex")) {
      box.setAttribute("tabindex", "0");
      box.setAttribute("role", "region");
      box.setAttribute("aria-label", "Table (scrolls sideways on a narrow screen)");
    }
  }
  // A dashboard's filter: a select under its fieldset's legend.
  for (const fieldset of root.querySelectorAll("fieldset")) {
    const legend = fieldset.querySelector("legend");
    for (const control of fieldset.querySelectorAll("select, input")) {
      if (legend && !control.labels?.length && !control.getAttribute("aria-label")) {
        control.setAttribute("aria-label", legend.textContent.trim());
      }
    }
  }
}

label(document);
// The SQL editor and the dashboard's charts are built by scripts that may run later.
new MutationObserver(() => label(document)).observe(document.body, { childList: true, subtree: true });
