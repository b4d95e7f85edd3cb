# Sourced by check scripts that run Wine-style tests: wine_counts LOG prints
# "EXECUTED TODO FAILURES SKIPPED" summed over the log's summary lines
#   PID:name: N tests executed (T marked as todo, F as flaky, E failures), S skipped.
# (0 0 0 0 when there is none), so that a script can count every check that
# ran instead of one pass per program.  Wine writes "1 failure" in the singular.
wine_counts() {
    tr -d '\r' < "$1" | sed -n 's/.* \([0-9][0-9]*\) tests executed (\([0-9][0-9]*\) marked as todo, [0-9]* as flaky, \([0-9][0-9]*\) failures*), \([0-9][0-9]*\) skipped.*/\1 \2 \3 \4/p' |
        awk '{ n += $1; t += $2; e += $3; s += $4 } END { print n + 0, t + 0, e + 0, s + 0 }'
}
