"""A real JupyterHub on localhost under a class's load: N learners run a path at the same time.

    python benchmarks/hub_load.py --learners 8                 # the 90-minute workshop, 8 learners
    python benchmarks/hub_load.py --learners 3 --json out.json  # what tests/test_hub.py runs

JupyterHub (from PyPI) starts on 127.0.0.1 with a dummy authenticator, a local process spawner
and configurable-http-proxy (from npm: `npm install --prefix build/hub-proxy
configurable-http-proxy@5`). Each learner gets a home folder holding the course as nbgitpuller
would put it, logs in (a server is started for them), and runs the path's steps from
teaching/paths.toml through the server's REST and kernel websocket API, all learners at once:
for each step a notebook session, the cells before its first numbered section plus the named
sections, the kernels left running as a learner leaves them. Recorded per learner: peak memory
of the whole server (the single-user server and its kernels), CPU time, time from login to the
first output, and whether every cell ran. Nothing leaves this machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

import paths  # noqa: E402  (tools/paths.py: teaching/paths.toml and a step's cells)

PROXY_INSTALL = "npm install --prefix build/hub-proxy configurable-http-proxy@5"


@dataclass
class Learner:
    """What one simulated learner's run measured."""

    name: str
    ok: bool = False
    cells_run: int = 0
    error: str = ""
    login_to_first_output_s: float = 0.0
    wall_s: float = 0.0
    peak_server_mb: float = 0.0
    cpu_s: float = 0.0
    steps: list[dict] = field(default_factory=list)


def load_path(path_id: str) -> dict:
    """One path of teaching/paths.toml, by its id."""
    every = paths.load()
    for path in every:
        if path["id"] == path_id:
            return path
    raise ValueError(f"no path {path_id!r} in teaching/paths.toml: ids are "
                     f"{[p['id'] for p in every]}")


def step_cells(notebook: Path, sections: list[int] | None) -> list[tuple[str, bool]]:
    """(code, error expected) of the code cells a learner runs on one step of a path."""
    import nbformat

    cells = paths.step_cells(nbformat.read(notebook, as_version=4), sections)
    return [(cell.source, "raises-exception" in cell.metadata.get("tags", []))
            for cell in cells if cell.cell_type == "code" and cell.source.strip()]


def find_proxy() -> str:
    """configurable-http-proxy: on PATH, or where PROXY_INSTALL puts it."""
    local = ROOT / "build" / "hub-proxy" / "node_modules" / ".bin" / "configurable-http-proxy"
    found = shutil.which("configurable-http-proxy") or (str(local) if local.exists() else None)
    if not found:
        raise RuntimeError(f"configurable-http-proxy not found: install it with `{PROXY_INSTALL}`")
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def hub_config(base: Path, port: int, token: str) -> str:
    """jupyterhub_config.py for a local hub whose only client is this script (a service)."""
    bin_dir = Path(sys.executable).parent
    env = {"PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
           "OMP_NUM_THREADS": "1", "COURSE_PROGRESS_FILE": "off", "PYTHONHASHSEED": "0",
           "JUPYTER_PLATFORM_DIRS": "1", "PATH": f"{bin_dir}:{os.environ.get('PATH', '')}"}
    return f"""
c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = {port}
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = {free_port()}
c.ConfigurableHTTPProxy.command = [{find_proxy()!r}]
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{free_port()}"
c.JupyterHub.authenticator_class = "dummy"
c.JupyterHub.spawner_class = "simple"
c.SimpleLocalProcessSpawner.home_dir_template = {str(base / 'home' / '{username}')!r}
c.Spawner.cmd = [{str(bin_dir / 'jupyterhub-singleuser')!r}]
c.Spawner.args = ["--ServerApp.allow_root=True"]
c.Spawner.environment = {env!r}
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 120
c.JupyterHub.db_url = "sqlite:///{base / 'hub.sqlite'}"
c.JupyterHub.cookie_secret_file = {str(base / 'cookie_secret')!r}
c.JupyterHub.pid_file = {str(base / 'hub.pid')!r}
c.JupyterHub.services = [{{"name": "class-load", "api_token": {token!r}}}]
c.JupyterHub.load_roles = [{{"name": "class-load", "services": ["class-load"],
    "scopes": ["admin:users", "admin:servers", "access:servers", "read:users"]}}]
"""


def give_home(home: Path) -> None:
    """The course as a learner gets it (nbgitpuller's clone): the notebooks (the data ship in
    the installed course_lib)."""
    home.mkdir(parents=True)
    shutil.copytree(ROOT / "notebooks", home / "notebooks",
                    ignore=shutil.ignore_patterns("solutions", "*.py", "my_bert", ".ipynb*"))


class Hub:
    """A running hub and the calls this script makes to it."""

    def __init__(self, base: Path):
        self.base, self.port, self.token = base, free_port(), secrets.token_hex(16)
        (base / "jupyterhub_config.py").write_text(hub_config(base, self.port, self.token))
        self.log = open(base / "hub.log", "w")  # noqa: SIM115 (closed in stop)
        self.process = subprocess.Popen(
            [str(Path(sys.executable).parent / "jupyterhub"), "-f", "jupyterhub_config.py"],
            cwd=base, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        self.url = f"http://127.0.0.1:{self.port}"

    async def request(self, method: str, path: str, body: dict | None = None,
                      timeout: float = 120) -> dict | None:
        from tornado.httpclient import AsyncHTTPClient, HTTPRequest

        request = HTTPRequest(self.url + path, method=method,
                              headers={"Authorization": f"token {self.token}"},
                              body=None if body is None and method == "GET" else
                              json.dumps(body or {}),
                              request_timeout=timeout, allow_nonstandard_methods=True)
        response = await AsyncHTTPClient().fetch(request, raise_error=True)
        return json.loads(response.body) if response.body else None

    async def wait_up(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the hub stopped: see {self.base / 'hub.log'}")
            try:
                await self.request("GET", "/hub/api/", timeout=5)
                return
            except Exception:  # noqa: BLE001 (not up yet)
                await asyncio.sleep(0.5)
        raise RuntimeError(f"the hub did not answer in {timeout} s: see {self.base / 'hub.log'}")

    async def login(self, name: str, timeout: float = 180) -> None:
        """Create the learner and start their server; return when it is ready."""
        await self.request("POST", f"/hub/api/users/{name}")
        await self.request("POST", f"/hub/api/users/{name}/server")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            user = await self.request("GET", f"/hub/api/users/{name}")
            if user["servers"].get("", {}).get("ready"):
                return
            await asyncio.sleep(0.5)
        raise RuntimeError(f"{name}'s server was not ready in {timeout} s")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
        self.log.close()


async def run_cells(hub: Hub, name: str, notebook: str, cells, on_output) -> int:
    """Open a notebook session for ``name`` and run ``cells`` in its kernel; cells run."""
    from tornado.httpclient import HTTPRequest
    from tornado.websocket import websocket_connect

    session = await hub.request("POST", f"/user/{name}/api/sessions", {
        "path": notebook, "type": "notebook", "name": Path(notebook).name,
        "kernel": {"name": "python3"}})
    kernel = session["kernel"]["id"]
    ws_url = hub.url.replace("http", "ws") + f"/user/{name}/api/kernels/{kernel}/channels"
    socket_ = await websocket_connect(HTTPRequest(
        ws_url, headers={"Authorization": f"token {hub.token}"}, request_timeout=120))
    session_id = uuid.uuid4().hex
    try:
        for number, (code, error_expected) in enumerate(cells, start=1):
            msg_id = uuid.uuid4().hex
            await socket_.write_message(json.dumps({
                "header": {"msg_id": msg_id, "msg_type": "execute_request", "username": name,
                           "session": session_id, "version": "5.3", "date": ""},
                "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
                "content": {"code": code, "silent": False, "store_history": True,
                            "user_expressions": {}, "allow_stdin": False,
                            "stop_on_error": True}}))
            while True:
                raw = await asyncio.wait_for(socket_.read_message(), timeout=600)
                if raw is None:
                    raise RuntimeError(f"{notebook}: the kernel's websocket closed")
                if isinstance(raw, bytes):  # a binary message (widget buffers): not a reply
                    continue
                message = json.loads(raw)
                if message.get("parent_header", {}).get("msg_id") != msg_id:
                    continue
                if message["msg_type"] in ("stream", "execute_result", "display_data"):
                    on_output()
                if message["msg_type"] == "execute_reply":
                    status = message["content"]["status"]
                    if status != "ok" and not error_expected:
                        content = message["content"]
                        raise RuntimeError(f"{notebook} cell {number}: {content.get('ename')}: "
                                           f"{content.get('evalue')}")
                    on_output()
                    break
        return len(cells)
    finally:
        socket_.close()


def server_tree(name: str):
    """The processes of ``name``'s single-user server and its kernels (psutil)."""
    import psutil

    for process in psutil.process_iter(["cmdline"]):
        try:
            if any("jupyterhub-singleuser" in part for part in process.info["cmdline"] or []):
                if process.environ().get("JUPYTERHUB_USER") == name:
                    return [process, *process.children(recursive=True)]
        except psutil.Error:
            continue
    return []


def tree_usage(name: str) -> tuple[float, float]:
    """(resident MB, CPU seconds) of ``name``'s whole server now."""
    import psutil

    rss = cpu = 0.0
    for process in server_tree(name):
        try:
            rss += process.memory_info().rss / 2**20
            times = process.cpu_times()
            cpu += times.user + times.system
        except psutil.Error:
            continue
    return rss, cpu


async def learner_run(hub: Hub, learner: Learner, steps: list[dict]) -> None:
    start = time.monotonic()
    first = []
    try:
        await hub.login(learner.name)
        for step in steps:
            notebook = f"notebooks/{step['notebook']}.ipynb"
            cells = step_cells(ROOT / notebook, step.get("sections"))
            t0 = time.monotonic()
            learner.cells_run += await run_cells(
                hub, learner.name, notebook, cells,
                lambda: first or first.append(time.monotonic() - start))
            learner.steps.append({"notebook": step["notebook"], "sections": step.get("sections"),
                                  "cells": len(cells), "wall_s": round(time.monotonic() - t0, 1)})
        learner.ok = True
    except Exception as error:  # noqa: BLE001 (recorded, reported by the caller)
        learner.error = f"{type(error).__name__}: {error}"
    learner.wall_s = round(time.monotonic() - start, 1)
    learner.login_to_first_output_s = round(first[0], 1) if first else 0.0


async def sample_memory(learners: list[Learner], stop: asyncio.Event) -> None:
    """Every half second, the whole server's memory of each learner; keep the peaks."""
    while not stop.is_set():
        for learner in learners:
            rss, cpu = await asyncio.to_thread(tree_usage, learner.name)
            learner.peak_server_mb = round(max(learner.peak_server_mb, rss), 1)
            learner.cpu_s = round(max(learner.cpu_s, cpu), 1)
        try:
            await asyncio.wait_for(stop.wait(), timeout=0.5)
        except asyncio.TimeoutError:
            pass


async def pull_with_nbgitpuller(hub: Hub, name: str, repo: Path, target: str) -> None:
    """Follow an nbgitpuller link's API for ``name``: clone ``repo`` (a local git repository)."""
    query = urlencode({"repo": f"file://{repo}", "branch": "main", "targetpath": target})
    from tornado.httpclient import AsyncHTTPClient, HTTPRequest

    response = await AsyncHTTPClient().fetch(HTTPRequest(
        f"{hub.url}/user/{name}/git-pull/api?{query}",
        headers={"Authorization": f"token {hub.token}"}, request_timeout=180))
    if b'"phase": "finished"' not in response.body and b'"finished"' not in response.body:
        raise RuntimeError(f"nbgitpuller did not finish: {response.body[-500:]!r}")


async def run_class(learners: int, path_id: str, base: Path, git_repo: Path | None = None):
    steps = load_path(path_id)["step"]
    hub = Hub(base)
    try:
        await hub.wait_up()
        people = [Learner(f"learner{i + 1}") for i in range(learners)]
        for learner in people:
            give_home(base / "home" / learner.name)
        stop = asyncio.Event()
        sampler = asyncio.create_task(sample_memory(people, stop))
        await asyncio.gather(*(learner_run(hub, learner, steps) for learner in people))
        stop.set()
        await sampler
        pulled = None
        if git_repo is not None:
            await pull_with_nbgitpuller(hub, people[0].name, git_repo, "pulled-course")
            pulled = base / "home" / people[0].name / "pulled-course"
        return people, pulled
    finally:
        hub.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--learners", type=int, default=8)
    parser.add_argument("--path", default="workshop")
    parser.add_argument("--json", type=Path, help="write the measurements here")
    args = parser.parse_args(argv)
    if args.learners < 1:
        parser.error("--learners must be at least 1")
    with tempfile.TemporaryDirectory(prefix="hub-load-") as tmp:
        people, _ = asyncio.run(run_class(args.learners, args.path, Path(tmp)))
    rows = [asdict(learner) for learner in people]
    print(f"{args.learners} learners on path {args.path!r}, {os.cpu_count()} cores")
    print(f"{'learner':10} {'ok':>3} {'cells':>5} {'peak MB':>8} {'CPU s':>6} "
          f"{'first output s':>14} {'wall s':>7}")
    for row in rows:
        print(f"{row['name']:10} {'yes' if row['ok'] else 'NO':>3} {row['cells_run']:5} "
              f"{row['peak_server_mb']:8.0f} {row['cpu_s']:6.1f} "
              f"{row['login_to_first_output_s']:14.1f} {row['wall_s']:7.1f}"
              + (f"  {row['error']}" if row["error"] else ""))
    if args.json:
        args.json.write_text(json.dumps({"learners": args.learners, "path": args.path,
                                         "cores": os.cpu_count(), "rows": rows}, indent=1))
    return 0 if all(row["ok"] for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
