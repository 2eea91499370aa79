"""Port fallback: when the submission port cannot be reached, try the account's other ones.

Some networks block 465 or 587 (a hotel, a mobile operator, a company
firewall). ``connecting(sender, settings, result)``, a generator, opens the stream on the
configured port and TLS mode; when that connection is refused
(errors.ConnectionLost) or stays silent (errors.Timeout), it tries each
``settings.fallback_ports`` entry in order, ``[port, "implicit"]`` (RFC 8314
section 3.3) or ``[port, "starttls"]`` (RFC 3207): never plaintext (settings
refuse a plaintext fallback, RFC 8314 section 4). A TLS or certificate
failure is not a blocked port and is raised at once. The port that worked
becomes the settings' port (``remember``: the one it replaced goes to the
front of the fallbacks), and ``result["port"] = [port, mode]`` tells the
caller to save it for the account (device/app.py does), so the next send
starts with what worked. It yields 0 after each port that failed: one try a step, so a
board's engine gives the REPL, main.py and the watchdog their turn between two (a port
that drops packets silently costs a whole connect timeout, 30 s by default).

Example::

    stream = yield from connecting(sender, settings, job.result)   # may try 587, then 465
    if job.result.get("port"): accounts.save(acct, settings)
"""

from ..errors import ConnectionLost, Timeout


def candidates(cfg):
    """[(port, tls mode)] in the order to try: the configured one, then the fallbacks."""
    first = (cfg.port, cfg.secure())
    out = [first]
    for p in cfg.fallback_ports or ():
        c = (p[0], p[1])
        if c not in out:
            out.append(c)
    return out


def remember(cfg, port, mode):
    """Make (port, mode) the settings' first choice; the one it replaces becomes a fallback."""
    old = [cfg.port, cfg.secure()]
    rest = [[p[0], p[1]] for p in cfg.fallback_ports if (p[0], p[1]) != (port, mode)]
    if old[1] != "plain" and old not in rest:
        rest.insert(0, old)
    cfg.port = port
    cfg.tls = mode == "implicit"
    cfg.starttls = mode == "starttls"
    cfg.fallback_ports = rest


def connecting(sender, cfg, result=None):
    """The stream to the server, on the first port that answers, 0 yielded after each one
    that did not; raises the last error."""
    cands = candidates(cfg)
    err = None
    for port, mode in cands:
        try:
            stream = sender.connect(cfg.server, port, tls=mode, cafile=cfg.cafile,
                                    server_hostname=cfg.tls_domain or cfg.server,
                                    timeout=sender.connect_timeout)
        except (ConnectionLost, Timeout) as e:  # refused or silent: maybe a blocked port
            err = e
            yield 0
            continue
        if (port, mode) != cands[0]:
            remember(cfg, port, mode)
            if result is not None:
                result["port"] = [port, mode]
        return stream
    raise err
