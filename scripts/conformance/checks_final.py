"""Checks over everything the tester saw during the run (they run last)."""
from framework import check, require


@check("reply-checksums", ["MUST-2"], "every segment the target sent during the run had a valid TCP checksum",
       mode="final")
def reply_checksums(ctx):
    t = ctx.tester
    require(len(t.segments) > 0, "no segments seen")
    require(t.all_checksums_ok, "%d of %d segments with a bad checksum, e.g. %s"
            % (len(t.bad_checksums), len(t.segments), t.bad_checksums[:3]))
