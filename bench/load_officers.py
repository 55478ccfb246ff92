"""Locust users for bench/bench_load.py: signed-in officers, and the same officers
against the raw baseline server (bench/load_baseline.py).

Each officer owns one leaf item of their programme (officers update their own items,
so two never race for one item's version) and, between think times, picks in these
proportions: the programme dashboard 35%, an item's timeline 30% (their own half the
time), My items 15%, and an update 20% (open the update form: CSRF token and fresh
seen_version, then POST a status update). The plan (accounts, items, periods) comes
from the JSON file named by $LOAD_PLAN, written by bench_load.py.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import sys
from typing import Any

from locust import HttpUser, between, task
from requests.adapters import HTTPAdapter

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_web import hidden_value as field
from load_forms import selected_period, statuses

with open(os.environ["LOAD_PLAN"], encoding="utf-8") as _plan:
    PLAN: dict[str, Any] = json.load(_plan)
THINK = tuple(float(s) for s in os.environ.get("LOAD_THINK", "1,3").split(","))
_next_officer = itertools.count()


class SourceAddressAdapter(HTTPAdapter):
    """Connects from its own loopback address (127.0.0.N): each officer is a different
    client to the sign-in rate limit, as 50 people at 50 desks are."""

    def __init__(self, source: str) -> None:
        self.source = source
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["source_address"] = (self.source, 0)
        super().init_poolmanager(*args, **kwargs)


class Working(HttpUser):
    """What every officer does, in the proportions above; subclasses say where."""

    abstract = True
    wait_time = between(*THINK)
    pages: dict[str, str]  # request name: its URL, formatted with the officer's plan

    def on_start(self) -> None:
        n = next(_next_officer)
        self.me = PLAN["officers"][n % len(PLAN["officers"])]
        self.client.mount("http://", SourceAddressAdapter(f"127.0.0.{2 + n % 250}"))
        self.updates = 0

    def get(self, name: str, item: str = "") -> str:
        url = self.pages[name].format(**{**self.me, "item": item or self.me["item"]})
        return self.client.get(url, name=name).text

    @task(35)
    def dashboard(self) -> None:
        self.get("dashboard")

    @task(30)
    def timeline(self) -> None:
        self.get("timeline", self.me["item"] if random.random() < 0.5 else random.choice(self.me["items"]))

    @task(15)
    def my_items(self) -> None:
        self.get("my items")

    @task(20)
    def update(self) -> None:
        self.updates += 1
        self.post_update(self.get("update form", self.me["item"]))

    def post_update(self, form: str) -> None:
        raise NotImplementedError


class Officer(Working):
    """An officer on the real app: signs in once, then works."""

    pages = {
        "dashboard": "/programmes/{programme}/dashboard",
        "timeline": "/programmes/{programme}/items/{item}/timeline",
        "my items": "/my-items",
        "update form": "/programmes/{programme}/items/{item}/update",
    }

    def on_start(self) -> None:
        super().on_start()
        page = self.client.get("/login", name="sign-in form").text
        credentials = {"username": self.me["username"], "password": PLAN["password"]}
        with self.client.post(
            "/login",
            data={**credentials, "csrf_token": field(page, "csrf_token")},
            name="sign in",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code != 302:
                response.failure(f"sign-in: {response.status_code}")

    def post_update(self, form: str) -> None:
        choices = statuses(form)
        with self.client.post(
            self.pages["update form"].format(**self.me),
            data={
                "csrf_token": field(form, "csrf_token"),
                "seen_version": field(form, "seen_version"),
                "period": selected_period(form),
                "status": choices[self.updates % len(choices)],
                "update": f"Load update {self.updates}: delivery continues, partners engaged.",
                "mitigation": "Recovery plan agreed with partners.",
                "reason": "Re-rated after the monthly review.",
            },
            name="update POST",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            # Saved is a redirect; a form shown again (200) means it was refused.
            if response.status_code != 302:
                response.failure(f"update not saved: {response.status_code}")


class RawOfficer(Working):
    """The same officer, the same proportions and think time, against the baseline:
    one raw SQLite statement per request behind the same uvicorn workers."""

    pages = {
        "dashboard": "/dashboard?programme={programme}&period={period}",
        "timeline": "/timeline?programme={programme}&ref={item}",
        "my items": "/my-items?programme={programme}",
        "update form": "/update-form?programme={programme}&ref={item}",
    }

    def post_update(self, form: str) -> None:
        self.client.post("/update", data={"ref": self.me["item"]}, name="update POST")
