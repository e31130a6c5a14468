"""Summaries of repeated measurements: median, min, max, n (and the samples themselves)."""
import statistics


def summarize(samples):
    """A summary of numeric samples; None and negative values (the timers' "not reached")
    are dropped and counted as failed."""
    good = [float(s) for s in samples if s is not None and s >= 0]
    failed = len(samples) - len(good)
    if not good:
        return {"median": None, "min": None, "max": None, "n": 0, "failed": failed, "samples": []}
    return {"median": statistics.median(good), "min": min(good), "max": max(good), "n": len(good),
            "failed": failed, "samples": good}


def ratio(a, b):
    """a / b of two summaries' medians, rounded; None when either is missing or b is 0."""
    x, y = (a or {}).get("median"), (b or {}).get("median")
    if x is None or not y:
        return None
    return round(x / y, 3)


def figure(name, unit, better, values, peer_of=None, note=""):
    """One figure in the suite's common shape: summaries per subject (hull, qemu, crun...),
    and the ratio of hull's median to each peer's."""
    shaped = {"name": name, "unit": unit, "better": better, "values": values, "note": note}
    subject = peer_of or "hull"
    shaped["ratios"] = {f"{subject}/{peer}": ratio(values.get(subject), values[peer])
                        for peer in values if peer != subject}
    return shaped
