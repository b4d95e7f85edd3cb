#!/usr/bin/env python3
"""Mutation testing: does the test suite notice when the code is wrong?

`make mutants` runs this.  It copies the committed tree (git archive HEAD)
into $O/mutants/tree, builds it once, and for each mutant in
tests/mutants.txt applies one small change (the `from` text, which must occur
exactly once in its file, becomes the `to` text), rebuilds, runs the fast
tests of that part of the tree, records whether they failed (caught) or
passed (survived), and undoes the change.  A mutant marked `equivalent:`
changes nothing a test could observe; it is listed with its reason and not
counted.  The table goes to docs/mutants.md.

    python3 tests/mutants.py [--only ID[,ID...]] [--save FILE] [--list] [--check]
    python3 tests/mutants.py --table-from FILE[,FILE...]

--only runs some mutants and writes no table; --save also keeps the verdicts
of the run in FILE (JSON), and --table-from writes docs/mutants.md from such
files (runs of disjoint sets of mutants, made side by side with different
O=, so that a long list takes less wall time), in mutants.txt order.

Exit status: 0 when at least 90% of the counted mutants are caught.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import time

SRCDIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
O = os.environ.get("O", "build")
GOAL = 0.90

# The fast tests of each part of the tree, as a developer runs them after a
# change there.  Each is a shell command run in the scratch tree.
UNIT = "for t in build/tests/test_*; do \"$t\" >/dev/null 2>&1 || { echo \"caught by ${t##*/}\"; exit 1; }; done"
GROUPS = {
    "unit": UNIT,
    "cli": "sh tests/cli-roundtrip.sh",
    "wine": "sh tests/wine-backup.sh",
    "fhsvcctl": "sh dlls/fhsvcctl/check-fhsvcctl.sh",
    "fh": "for t in build/tests/test_fh_*; do \"$t\" >/dev/null 2>&1 || { echo \"caught by ${t##*/}\"; exit 1; }; done; "
          "sh tests/filehistory-integration.sh",
    # the service, CLI and target against another local user (needs root)
    "fh-adversarial": "sh tests/fh-adversarial.sh",
    "fhcfg": "sh dlls/fhcfg/check-fhcfg.sh",
    "nsf": "for t in build/tests/test_nsf_*; do \"$t\" >/dev/null 2>&1 || { echo \"caught by ${t##*/}\"; exit 1; }; done",
    # winbackup nsf and nnotes.dll (toolkit program natively and under Wine)
    # (MINGW_CC as make check gives it: the mingw-w64 toolkit programs under Wine)
    "nnotes": "MINGW_CC=\"$(sed -n 's/^MINGW_CC *= *//p' Makefile)\" sh dlls/nnotes/check-nnotes.sh",
    # the small run of make check: live writers, planted side marks, ramfs
    "nsf-stress": "sh tests/nsf-stress.sh",
}
AREAS = [
    ("libs/wbcore/", ["unit", "cli", "wine"]),
    ("libs/posix/", ["unit", "cli", "wine"]),
    ("libs/native/", ["unit", "cli"]),
    ("dlls/kernel32/", ["wine"]),
    ("dlls/fhsvcctl/", ["fhsvcctl"]),
    ("dlls/fhcfg/", ["fhcfg"]),
    ("libs/fh/", ["fh", "fh-adversarial"]),
    ("tools/filehistory/", ["fh", "fh-adversarial"]),
    ("libs/nsf/", ["nsf", "nnotes", "nsf-stress"]),
    ("dlls/nnotes/", ["nnotes"]),
    ("tools/winbackup/nsf.c", ["nnotes", "nsf-stress"]),
    ("tools/winbackup/", ["cli", "wine"]),
]
# A mutant that makes a test loop forever is caught by the timeout: short
# for the quick groups, so that such mutants cost minutes, not a quarter hour.
# Measured unmutated (2 cores): fh 60 s, fh-adversarial 21 s, fhcfg 12 s,
# nsf 2 s, nnotes 21 s, nsf-stress 62 s; a timeout is 4 to 10 times that.
GROUP_TIMEOUT = {"unit": 240, "cli": 240, "wine": 900, "fhsvcctl": 600, "fh": 900,
                 "fh-adversarial": 180, "fhcfg": 180, "nsf": 120, "nnotes": 240, "nsf-stress": 420}


def read_mutants(path):
    mutants, current = [], {}
    for raw in open(path, encoding="utf-8"):
        line = raw.rstrip("\n")
        if line.startswith("#"):
            continue
        if not line.strip():
            if current:
                mutants.append(current)
                current = {}
            continue
        key, _, value = line.partition(":")
        if key not in ("id", "file", "from", "to", "what", "equivalent"):
            sys.exit("mutants.txt: unknown field in %r" % line)
        value = value[1:] if value.startswith(" ") else value
        current[key] = current.get(key, "") + ("\n" if key in current else "") + value
    if current:
        mutants.append(current)
    for m in mutants:
        for key in ("id", "file", "from", "to", "what"):
            if key not in m:
                sys.exit("mutants.txt: mutant %s has no %s" % (m.get("id", "?"), key))
        m["from"] = m["from"].replace("\\n", "\n")
        m["to"] = m["to"].replace("\\n", "\n")
    return mutants


def groups_for(path):
    for prefix, groups in AREAS:
        if path.startswith(prefix):
            return groups
    sys.exit("no test group for %s" % path)


def run(cmd, cwd, timeout=None, log=None):
    # its own process group: a time-out kills the test that loops, not only
    # the shell that started it (an orphaned test_codec once ran for half an
    # hour beside the next mutants)
    p = subprocess.Popen(cmd, shell=True, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         env=dict(os.environ, O="build"), start_new_session=True)
    try:
        data, _ = p.communicate(timeout=timeout)
        out = data.decode(errors="replace")
        rc = p.returncode
    except subprocess.TimeoutExpired:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        data, _ = p.communicate()
        out = (data or b"").decode(errors="replace") + "\n[timeout]"
        rc = -1
    if log:
        with open(log, "a") as f:
            f.write("$ %s\n%s\n[exit %d]\n" % (cmd, out, rc))
    return rc, out


def build(tree, log):
    rc, _ = run("make -j2 build-all $(ls tests/test_*.c | sed 's|tests/\\(.*\\)\\.c|build/tests/\\1|')", tree, log=log)
    return rc == 0


def main(argv):
    only = None
    if "--only" in argv:
        only = set(argv[argv.index("--only") + 1].split(","))
    mutants = read_mutants(os.path.join(SRCDIR, "tests", "mutants.txt"))
    if "--table-from" in argv:
        saved, heads = {}, []
        for name in argv[argv.index("--table-from") + 1].split(","):
            run_ = json.load(open(name))
            heads.append(run_["head"])
            for r in run_["results"]:
                saved[r["id"]] = (r["verdict"], r["by"])
        missing = [m["id"] for m in mutants if m["id"] not in saved and "equivalent" not in m]
        if missing:
            sys.exit("mutants: no verdict for %s" % ", ".join(missing))
        # a mutant written down as equivalent since its run is listed as such
        results = [(m, "equivalent" if "equivalent" in m else saved[m["id"]][0], saved.get(m["id"], ("", ""))[1])
                   for m in mutants]
        return report(results, ", ".join(sorted(set(heads))), True)
    if "--list" in argv:
        for m in mutants:
            print("%-28s %s" % (m["id"], m["what"]))
        return 0
    if "--check" in argv:
        # every mutant's text is in the working tree exactly once (after code moves)
        bad = 0
        for m in mutants:
            text = open(os.path.join(SRCDIR, m["file"]), encoding="utf-8").read()
            if text.count(m["from"]) != 1:
                print("%s: 'from' occurs %d times in %s" % (m["id"], text.count(m["from"]), m["file"]))
                bad += 1
        return 1 if bad else 0
    if only:
        mutants = [m for m in mutants if m["id"] in only]

    work = os.path.join(SRCDIR, O, "mutants")
    tree = os.path.join(work, "tree")
    log = os.path.join(work, "log.txt")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(tree)
    head = subprocess.run(["git", "-C", SRCDIR, "rev-parse", "--short", "HEAD"], stdout=subprocess.PIPE).stdout.decode().strip()
    dirty = subprocess.run(["git", "-C", SRCDIR, "diff", "--quiet", "HEAD"]).returncode != 0
    if dirty:
        print("mutants: the working tree has uncommitted changes; the mutants run on HEAD (%s)" % head)
    subprocess.run("git -C '%s' archive HEAD | tar -x -C '%s'" % (SRCDIR, tree), shell=True, check=True)
    print("mutants: building HEAD %s in %s" % (head, tree))
    # no fuzz targets: clang builds are slow and no group uses them
    if run("autoreconf -fi && ./configure CLANG=", tree, log=log)[0] or not build(tree, log):
        sys.exit("mutants: the unmutated tree does not build (see %s)" % log)

    # every mutant's text must be there exactly once, before anything runs
    for m in mutants:
        text = open(os.path.join(tree, m["file"]), encoding="utf-8").read()
        if text.count(m["from"]) != 1:
            sys.exit("mutants: %s: 'from' occurs %d times in %s" % (m["id"], text.count(m["from"]), m["file"]))

    needed = sorted({g for m in mutants if "equivalent" not in m for g in groups_for(m["file"])})
    print("mutants: baseline run of %s" % ", ".join(needed))
    for g in needed:
        rc, out = run(GROUPS[g], tree, GROUP_TIMEOUT[g], log)
        if rc:
            sys.exit("mutants: group %s fails without any mutant (see %s)" % (g, log))

    results = []
    for m in mutants:
        path = os.path.join(tree, m["file"])
        original = open(path, encoding="utf-8").read()
        if "equivalent" in m:
            results.append((m, "equivalent", ""))
            print("%-28s equivalent: %s" % (m["id"], m["equivalent"]))
            continue
        start = time.time()
        with open(path, "w", encoding="utf-8") as f:
            f.write(original.replace(m["from"], m["to"], 1))
        try:
            if not build(tree, log):
                verdict, by = "invalid", "does not build"
            else:
                verdict, by = "survived", ""
                for g in groups_for(m["file"]):
                    rc, out = run(GROUPS[g], tree, GROUP_TIMEOUT[g], log)
                    if rc:
                        which = [l[len("caught by "):] for l in out.splitlines() if l.startswith("caught by ")]
                        verdict, by = "caught", g + (" (timeout)" if rc == -1 else "") + (": " + which[0] if which else "")
                        break
        finally:
            with open(path, "w", encoding="utf-8") as f:
                f.write(original)
            # the restored file is older than the objects built from the
            # mutant: make must see it as new
            os.utime(path, None)
        results.append((m, verdict, by))
        print("%-28s %-9s %-28s %4.0f s  %s" % (m["id"], verdict, by, time.time() - start, m["what"]), flush=True)
    build(tree, log)
    if "--save" in argv:
        with open(argv[argv.index("--save") + 1], "w") as f:
            json.dump({"head": head, "results": [{"id": m["id"], "verdict": v, "by": b} for m, v, b in results]}, f)
    return report(results, head, only is None)


def report(results, head, table):
    counted = [r for r in results if r[1] in ("caught", "survived")]
    caught = sum(1 for r in counted if r[1] == "caught")
    invalid = [r for r in results if r[1] == "invalid"]
    score = caught / len(counted) if counted else 0.0
    summary = "%d of %d mutants caught (%.0f%%), %d equivalent, %d invalid" % (
        caught, len(counted), 100 * score, sum(1 for r in results if r[1] == "equivalent"), len(invalid))
    print("mutants: " + summary)

    if table:
        write_table(results, summary, head)
    return 0 if score >= GOAL and not invalid else 1


def write_table(results, summary, head):
    lines = [
        "# Mutation testing",
        "",
        "Generated by `make mutants` (tests/mutants.py) from tests/mutants.txt on commit %s; do not edit." % head
        if "," not in head else
        "Generated by tests/mutants.py --table-from from runs of disjoint sets of tests/mutants.txt, side by side, on commits %s; do not edit." % head,
        "Each mutant is one small change to the code; the fast tests of its part of the tree run against it.",
        "*Caught*: a test failed. *Survived*: every test passed, so a test is missing. *Equivalent*: the",
        "change cannot be observed (the reason is given) and is not counted. Goal: at least 90% caught.",
        "",
        "**%s.**" % summary,
        "",
        "| mutant | file | change | result |",
        "|---|---|---|---|",
    ]
    for m, verdict, by in results:
        result = {"caught": "caught by %s" % by, "survived": "**survived**", "invalid": "invalid (%s)" % by,
                  "equivalent": "equivalent: %s" % m.get("equivalent", "")}[verdict]
        lines.append("| %s | `%s` | %s | %s |" % (m["id"], m["file"], m["what"].replace("|", "\\|"), result))
    lines.append("")
    lines.append("Test groups: " + "; ".join("%s = `%s`" % (g, c) for g, c in GROUPS.items() if g != "unit") +
                 "; unit = every tests/test_* program (ASan/UBSan).")
    with open(os.path.join(SRCDIR, "docs", "mutants.md"), "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
