"""Checks over everything the tester saw during the run (they run last)."""
from framework import ALL_TESTERS, check, require


@check("reply-checksums", ["MUST-2"], "every segment the target sent during the run had a valid TCP checksum",
       mode="final")
def reply_checksums(ctx):
    segs = [s for t in ALL_TESTERS for s in t.segments]
    bad = [s for t in ALL_TESTERS for s in t.bad_checksums]
    require(len(segs) > 0, "no segments seen")
    require(not bad, "%d of %d segments with a bad checksum, e.g. %s" % (len(bad), len(segs), bad[:3]))
