"""SSH scan throughput: N host aliases on one loopback sshd, each a full endpoint scan.

    .venv/bin/python bench/bench_ssh_scan.py [--hosts 200] [--concurrency 32]

Starts the test sshd (tests/integration/linux/pw_sshd.py), pins its key once per alias in the
tenant's known_hosts (``alias-NNN``, matched through OpenSSH's HostKeyAlias), and scans every
alias through ``SshEndpoint``: one connection per host (key exchange, public-key login, host key
verified against the pin), the facts round trip, reboot detection and ``apt-get -s dist-upgrade``
against a small local repository (metadata refreshed once before the run, not per host), under a
per-site concurrency bound. Two passes: nothing to upgrade, then (as root) one upgrade pending on
every "host", where apt's own dependency solving, on the same 2 cores as everything else,
dominates. Prints hosts/s, patchwave's own CPU per host and its peak RSS. Target: >= 20 hosts/s
on 2 cores. Needs sshd, dpkg-deb and apt (scripts/install-system-deps.sh).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "integration" / "linux"))

from pw_repos import build_apt_repo, build_deb
from pw_sshd import sshd_available, start_sshd

from patchwave.credentials import SshCredential
from patchwave.domain.models import Connector, Host, OsFamily
from patchwave.endpoints.drivers.base import DriverOptions
from patchwave.endpoints.ssh import SshEndpoint, SshOptions
from patchwave.endpoints.transport import SiteLimits
from patchwave.settings import Settings


async def _scan_all(
    hosts: list[Host], *, settings: Settings, options: DriverOptions, cred: SshCredential,
    concurrency: int,
) -> tuple[int, list[str]]:  # fmt: skip
    limits = SiteLimits(default=concurrency)
    errors: list[str] = []
    found = 0

    async def one(host: Host) -> None:
        nonlocal found
        endpoint = SshEndpoint(
            host, settings=settings, options=options, credential=cred, limits=limits,
            ssh=SshOptions(host_key_alias=host.name),
        )  # fmt: skip
        try:
            async with endpoint as ep:
                result = await ep.scan()  # not `found += await ...`: that reads found first
            found += len(result.missing)
        except Exception as exc:  # noqa: BLE001 - a bench reports every failure, whatever it is
            errors.append(f"{host.name}: {exc}")

    await asyncio.gather(*(one(h) for h in hosts))
    return found, errors


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    if not sshd_available():
        print("bench_ssh_scan: sshd is not installed (scripts/install-system-deps.sh); skipped")
        return 0
    with tempfile.TemporaryDirectory(prefix="pw-bench-ssh-") as tmp:
        work = Path(tmp)
        debs = [build_deb(work, "patchwave-demo-bench", v) for v in ("1.0", "1.1")]
        repo = build_apt_repo(work, debs)
        options = DriverOptions(
            manager="apt", refresh=False, apt_sources_list=str(repo.sources_list),
            apt_lists_dir=str(repo.lists_dir), state_dir=str(work / "state"),
        )  # fmt: skip
        subprocess.run(
            ["apt-get", "-q", "-o", f"Dir::Etc::sourcelist={repo.sources_list}",
             "-o", "Dir::Etc::sourceparts=-", "-o", f"Dir::State::Lists={repo.lists_dir}",
             "-o", "APT::Get::List-Cleanup=0", "update"],
            check=True, capture_output=True,
        )  # fmt: skip
        sshd = start_sshd(work / "sshd", max_startups=max(400, args.concurrency * 2))
        settings = Settings(home=work / "home")
        names = [f"alias-{i:03d}" for i in range(args.hosts)]
        known = settings.effective_known_hosts_dir / "bench"
        known.parent.mkdir(parents=True)
        known.write_text("".join(sshd.known_hosts_line(name) for name in names))
        hosts = [
            Host(tenant="bench", site="dc1", name=name, os_family=OsFamily.DEBIAN,
                 connector=Connector.SSH, address=f"127.0.0.1:{sshd.port}")
            for name in names
        ]  # fmt: skip
        cred = SshCredential(username=sshd.user, private_key=sshd.client_key_pem)
        passes = [("nothing to upgrade", None)]
        if os.geteuid() == 0:  # 1.0 installed (then purged) so each scan finds 1.1
            passes.append(("one upgrade pending", debs[0]))
        errors: list[str] = []
        try:
            for label, deb in passes:
                if deb is not None:
                    subprocess.run(["dpkg", "-i", str(deb)], check=True, capture_output=True)
                cpu, started = time.process_time(), time.perf_counter()
                found, errs = asyncio.run(
                    _scan_all(hosts, settings=settings, options=options, cred=cred,
                              concurrency=args.concurrency)
                )  # fmt: skip
                elapsed = time.perf_counter() - started
                client_ms = (time.process_time() - cpu) * 1000 / args.hosts
                ok = args.hosts - len(errs)
                errors += errs
                print(
                    f"ssh scan, {label}: {ok}/{args.hosts} hosts in {elapsed:.2f} s = "
                    f"{ok / elapsed:.1f} hosts/s (concurrency {args.concurrency}), "
                    f"{found} findings, patchwave CPU {client_ms:.1f} ms/host"
                )
        finally:
            sshd.stop()
            subprocess.run(["dpkg", "--purge", "patchwave-demo-bench"], capture_output=True,
                           check=False)  # fmt: skip
    rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"patchwave peak RSS {rss_mib:.0f} MiB (sshd and the package manager run beside it)")
    for line in errors[:5]:
        print("  error:", line)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
