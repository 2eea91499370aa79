"""Bench section "board": .mpy bytes per module and in total, heap after boot and after importing all.

Sizes: every module of shared/ and device/ compiled by mpy-cross for xtensawin
(ESP32, ESP32-S3) and armv6m (RP2040). ``mpy_total_bytes`` is the xtensawin
total over shared/ and device/; ``mpy_send_path_bytes`` only the modules the
send path reaches (static import closure of smtpmtm.outbox.sender + device/smtpmtm_board/net.py,
imports inside functions included): the part a board needs to send its
outbox. The peer is ReadyMail (about 52 KB of native code for SMTP alone, from
../shared/reference/embedded-smtp-clients.md); the target is under 48 KB.

Heap, on the virtual board (host/vboard.py: the unix port behind a pty, flash
image at /, the project compiled to .mpy in its ROM folder as ``--frozen``):

- ``heap_after_boot``: gc.mem_alloc() at the REPL after a power-up that ran
  the project's boot.py and main.py (store opened, engine started, link down);
- ``heap_after_boot_bare``: the same with an empty flash (the firmware alone);
- ``heap_after_import_all``: after importing every module of shared/ and
  device/ (but boot/main) on a bare board.

On a real board frozen bytecode stays in flash; here the .mpy code is loaded
into the heap, so these are upper bounds (the "code" row shows that part).
"""

import ast
import os
import shutil
import tempfile

from host import mpytable
from host.mpy import ROOT

SEND_ROOTS = ("smtpmtm.outbox.sender", "smtpmtm_board.net")
# what ReadyMail's "SMTP alone" covers: the protocol, AUTH and the TLS stream (no MIME, no store)
SMTP_ALONE = ("smtpmtm.wire.smtp", "smtpmtm.wire.session",
              "smtpmtm.wire.replies", "smtpmtm.wire.auth", "smtpmtm.wire.dotstuff", "smtpmtm.errors",
              "smtpmtm.compat", "smtpmtm_board.net")
PEER = "ReadyMail (native, SMTP only)"
HEAP = 512 * 1024


def _module_name(rel):
    """"smtpmtm/mime.py" -> "smtpmtm.mime"; a package's __init__.py -> the package."""
    name = rel[:-3].replace("/", ".")
    return name[: -len(".__init__")] if name.endswith(".__init__") else name


def _module_files():
    """module name -> source path for shared/ and device/."""
    return {_module_name(rel): src for rel, src in mpytable.modules()}


def _package_of(name, path, level):
    """The package a relative import of ``level`` dots in module ``name`` (file ``path``) starts from."""
    if path.endswith("__init__.py"):  # a package's own module: one dot is the package itself
        level -= 1
    return name.rsplit(".", level)[0] if level else name


def import_closure(roots):
    files = _module_files()
    seen, todo = set(), [r for r in roots if r in files]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        with open(files[name]) as f:
            tree = ast.parse(f.read())
        for node in ast.walk(tree):
            targets = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:  # relative: inside the package of `name`
                    pkg = _package_of(name, files[name], node.level)
                    base = pkg + ("." + base if base else "")
                targets = [base] + [base + "." + a.name for a in node.names]
            for t in targets:
                parts = t.split(".")
                for i in range(1, len(parts) + 1):
                    cand = ".".join(parts[:i])
                    if cand in files and cand not in seen:
                        todo.append(cand)
    return sorted(seen)


def sizes(arch):
    tmp = tempfile.mkdtemp(prefix="bboard-")
    try:
        rows = mpytable.compile_all(arch, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return {_module_name(rel): mpy_bytes for rel, src_bytes, mpy_bytes in rows}


def _value(con, expr, timeout=60):
    """Type a line at the friendly prompt; return the int it printed after VALUE=."""
    con.write(b"print('VAL' 'UE=%d' % (" + expr.encode() + b"))\r")
    con.expect(b"VALUE=", timeout)
    return int(con.expect(b"\n", timeout).strip())


MEASURE = "[gc.collect(), gc.mem_alloc()][1]"


def heap_figures():
    import json

    from host.boardctl import Console, mpremote
    from host.vboard import VirtualBoard

    figs = {}
    names = [n for n in _module_files() if n not in ("boot", "main")]
    tmp = tempfile.mkdtemp(prefix="bboard-vb-")
    try:
        with VirtualBoard("sim", state_dir=os.path.join(tmp, "vb"), heap=HEAP, frozen=True, fresh=True) as vb:
            con = Console(vb.pty)
            try:
                con.write(b"\r\x03\x02\r")
                con.expect(b">>> ", 60)
                con.write(b"import gc\r")
                figs["heap_after_boot_bare"] = _value(con, MEASURE)
                code = "\n".join("import %s" % n for n in sorted(names))
                with open(os.path.join(tmp, "imp.py"), "w") as f:
                    f.write("import gc\n" + code + "\n")
            finally:
                con.close()
            mpremote(vb.pty, "fs", "cp", os.path.join(tmp, "imp.py"), ":imp_all.py", timeout=60)
            con = Console(vb.pty)
            try:
                vb.power_cycle()  # bare boot again (no boot.py/main.py yet)
                con.expect(b"Type \"help()\"", 60)
                con.expect(b">>> ", 60)
                con.write(b"import gc\r")
                base = _value(con, MEASURE)
                con.write(b"import imp_all\r")
                figs["heap_after_import_all"] = _value(con, MEASURE)
                figs["heap_code_all"] = figs["heap_after_import_all"] - base
            finally:
                con.close()
            # the project's own boot: boot.py + main.py + a config with the link down
            cfg = os.path.join(tmp, "config.json")
            with open(cfg, "w") as f:
                json.dump({"ntp": None, "hooks": ["wifi"]}, f)
            mpremote(vb.pty, "fs", "rm", ":imp_all.py", "+", "fs", "cp", os.path.join(ROOT, "device", "boot.py"),
                     os.path.join(ROOT, "device", "main.py"), cfg, ":", timeout=60)
            con = Console(vb.pty)
            try:
                vb.power_cycle()
                con.expect(b"Type \"help()\"", 60)
                con.expect(b">>> ", 60)
                con.write(b"import gc\r")
                figs["heap_after_boot"] = _value(con, MEASURE)
            finally:
                con.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return figs


def run(argv):
    rows, figs = [], {}
    xt = sizes("xtensawin")
    arm = sizes("armv6m")
    send = import_closure(SEND_ROOTS)
    total = sum(xt.values())
    send_total = sum(xt[n] for n in send)
    smtp_alone = sum(xt[n] for n in SMTP_ALONE if n in xt)
    shared_total = sum(v for k, v in xt.items() if k == "smtpmtm" or k.startswith("smtpmtm."))
    figs.update({
        "mpy_total_bytes": total,
        "mpy_total_bytes_armv6m": sum(arm.values()),
        "mpy_shared_bytes": shared_total,
        "mpy_device_bytes": total - shared_total,
        "mpy_send_path_bytes": send_total,
        "mpy_send_path_modules": len(send),
        "mpy_smtp_alone_bytes": smtp_alone,
        "mpy_modules": len(xt),
    })
    for name in sorted(xt) if "--modules" in argv else ():  # `make mpy` prints them too
        rows.append({"section": "board", "measure": ".mpy bytes %s (xtensawin)" % name, "smtpmtm": xt[name]})
    rows.append({"section": "board", "measure": ".mpy bytes, shared/ + device/ (xtensawin)", "smtpmtm": total})
    rows.append({"section": "board", "measure": ".mpy bytes, shared/ + device/ (armv6m)",
                 "smtpmtm": sum(arm.values())})
    rows.append({"section": "board", "measure": ".mpy bytes, send path (%d modules, xtensawin)" % len(send),
                 "smtpmtm": send_total, "peer": PEER, "peer value": "~52 KB", "target": "< 48 KB (49152)"})
    rows.append({"section": "board", "measure": ".mpy bytes, SMTP alone: protocol, AUTH, TLS stream "
                 "(%d modules, xtensawin)" % len(SMTP_ALONE), "smtpmtm": smtp_alone, "peer": PEER,
                 "peer value": "~52 KB", "target": "like for like with ReadyMail's SMTP"})
    if "--no-heap" not in argv:
        h = heap_figures()
        figs.update(h)
        note = "virtual board, code as .mpy in RAM (frozen on a board: ~0)"
        rows.append({"section": "board", "measure": "heap in use after boot, bare firmware (bytes)",
                     "smtpmtm": h["heap_after_boot_bare"], "target": note})
        rows.append({"section": "board", "measure": "heap in use after boot.py + main.py (bytes)",
                     "smtpmtm": h["heap_after_boot"], "target": note})
        rows.append({"section": "board", "measure": "heap in use after importing all (bytes)",
                     "smtpmtm": h["heap_after_import_all"], "target": note})
        rows.append({"section": "board", "measure": "  of which imported code (bytes)",
                     "smtpmtm": h["heap_code_all"]})
    return rows, figs
