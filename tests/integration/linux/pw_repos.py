"""Builders of tiny local package repositories (apt and rpm) for the driver tests.

Every package is a ``patchwave-demo-*`` that installs one file under /usr/share/patchwave-demo,
so installing and purging it never touches anything else on the machine.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

REBOOT_FILE = Path("/var/run/reboot-required")


def _run(*argv: str | Path, cwd: Path | None = None) -> None:
    subprocess.run([str(a) for a in argv], check=True, cwd=cwd, capture_output=True)


def build_deb(workdir: Path, name: str, version: str, *, postinst: str | None = None) -> Path:
    tree = workdir / f"{name}-{version}"
    (tree / "DEBIAN").mkdir(parents=True)
    share = tree / "usr/share/patchwave-demo"
    share.mkdir(parents=True)
    (share / f"{name}.version").write_text(version + "\n")
    (tree / "DEBIAN/control").write_text(
        f"Package: {name}\nVersion: {version}\nArchitecture: all\n"
        "Maintainer: patchwave tests <tests@patchwave.invalid>\n"
        f"Description: patchwave test package {name}\n"
    )
    if postinst:
        script = tree / "DEBIAN/postinst"
        script.write_text("#!/bin/sh\nset -e\n" + postinst + "\n")
        script.chmod(0o755)
    out = workdir / f"{name}_{version}_all.deb"
    _run("dpkg-deb", "-Zgzip", "--build", tree, out)
    return out


@dataclass(frozen=True)
class AptRepo:
    path: Path
    sources_list: Path
    lists_dir: Path


def build_apt_repo(workdir: Path, debs: list[Path], *, security: bool = True) -> AptRepo:
    """A flat repository (``deb [trusted=yes] file:DIR ./``) whose Release names a security
    suite, so apt shows its origin as ``Patchwave-Security:stable-security``."""
    repo = workdir / "apt-repo"
    repo.mkdir(parents=True)
    for deb in debs:
        shutil.copy(deb, repo)
    packages = subprocess.run(
        ["dpkg-scanpackages", "-m", ".", "/dev/null"],
        cwd=repo,
        check=True,
        capture_output=True,
    ).stdout
    (repo / "Packages").write_bytes(packages)
    suite = "stable-security" if security else "stable"
    digest = hashlib.sha256(packages).hexdigest()
    (repo / "Release").write_text(
        f"Origin: Patchwave-Security\nLabel: Patchwave-Security\nSuite: {suite}\n"
        f"Codename: pwtest\nDate: Sat, 28 Nov 2026 00:00:00 UTC\n"
        f"SHA256:\n {digest} {len(packages)} Packages\n"
    )
    sources = workdir / "sources.list"
    sources.write_text(f"deb [trusted=yes] file:{repo} ./\n")
    lists = workdir / "apt-lists"
    (lists / "partial").mkdir(parents=True)
    return AptRepo(repo, sources, lists)


SPEC = """Name: {name}
Version: %{{pwver}}
Release: 1
Summary: patchwave test package
License: MIT
BuildArch: noarch
%description
patchwave test package.
%install
mkdir -p %{{buildroot}}/usr/share/patchwave-demo
echo %{{pwver}} > %{{buildroot}}/usr/share/patchwave-demo/{name}.version
%files
/usr/share/patchwave-demo/{name}.version
"""

UPDATEINFO = """<?xml version="1.0" encoding="UTF-8"?>
<updates>
  <update from="security@patchwave.invalid" status="final" type="security" version="1">
    <id>{advisory}</id>
    <title>Important: {name} security update</title>
    <issued date="2026-11-01 00:00:00"/>
    <updated date="2026-11-02 00:00:00"/>
    <severity>Important</severity>
    <summary>Fixes two flaws</summary>
    <description>Two flaws were fixed.</description>
    <references>
      <reference href="https://www.cve.org/CVERecord?id=CVE-2026-1111" id="CVE-2026-1111"
                 title="CVE-2026-1111" type="cve"/>
      <reference href="https://www.cve.org/CVERecord?id=CVE-2026-2222" id="CVE-2026-2222"
                 title="CVE-2026-2222" type="cve"/>
    </references>
    <pkglist>
      <collection short="pw">
        <name>patchwave</name>
        <package name="{name}" version="1.1" release="1" epoch="0" arch="noarch"
                 src="{name}-1.1-1.src.rpm">
          <filename>{name}-1.1-1.noarch.rpm</filename>
          <reboot_suggested>True</reboot_suggested>
        </package>
      </collection>
    </pkglist>
  </update>
</updates>
"""


def build_rpm_repo(workdir: Path, name: str, advisory: str) -> Path:
    """noarch RPMs of ``name`` at 1.0-1 and 1.1-1 and a repository whose updateinfo carries a
    security advisory (Important, two CVEs) for 1.1."""
    spec = workdir / f"{name}.spec"
    spec.write_text(SPEC.format(name=name))
    top = workdir / "rpmbuild"
    for version in ("1.0", "1.1"):
        _run("rpmbuild", "-bb", "--quiet", "--define", f"_topdir {top}",
             "--define", f"pwver {version}", spec)  # fmt: skip
    repo = workdir / "rpm-repo"
    repo.mkdir()
    for rpm in (top / "RPMS/noarch").glob("*.rpm"):
        shutil.copy(rpm, repo)
    _run("createrepo_c", "-q", repo)
    info = workdir / "updateinfo.xml"
    info.write_text(UPDATEINFO.format(name=name, advisory=advisory))
    _run("modifyrepo_c", info, repo / "repodata")
    return repo
