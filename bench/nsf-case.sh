# Case 6 of bench/run.sh (sourced; uses its row/note/median/calc helpers):
# online backup of a $BIG-byte file through the NSFBackup API
# (drivers/nsfbench.c: Start, copy with 1 MiB reads, Stop, change info
# applied, copy fsynced) while a writer rewrites random 4 KiB blocks at
# NSF_WRITE_RATE writes/s, against `cp --reflink=never` + `sync` of the same
# file with no writer.  Per file system: XFS and btrfs (reflink recorder) and
# ext4 (read-lease recorder) on loop-mounted images, tmpfs (read lease) -
# file systems that need root and a loop device are skipped otherwise.
NSF_WRITE_RATE=${NSF_WRITE_RATE:-1000}
NSFBENCH=$O/bench/nsfbench
nsf_mounts=
# Before each timed run: what earlier runs and cases left dirty is written
# back first (at most 30 s), so neither side pays for the other's writeback,
# and the page cache is emptied (as root), so both start from the same free
# memory whatever the cases before left cached; the file is then read back
# in (warm cache for both).
nsf_quiesce() {
    local i=0
    sync
    while [ $i -lt 300 ] && [ "$(awk '/^(Dirty|Writeback):/ { kb += $2 } END { print kb + 0 }' /proc/meminfo)" -gt 32768 ]; do
        sleep 0.1; i=$((i + 1))
    done
    [ -w /proc/sys/vm/drop_caches ] && echo 3 > /proc/sys/vm/drop_caches
}
nsf_cleanup_mounts() { for m in $nsf_mounts; do umount "$m" 2>/dev/null; done; nsf_mounts=; }
nsf_fs_dir() {   # fs -> a directory on it (echo), or nothing
    local fs=$1 img=$W/nsf-$1.img dir=$W/nsf-$1
    case $fs in
    tmpfs)
        mkdir -p "$dir"
        if [ "$(id -u)" = 0 ] && mount -t tmpfs -o size=$((BIG * 3 / MiB + 64))M tmpfs "$dir" 2>/dev/null; then
            nsf_mounts="$dir $nsf_mounts"; echo "$dir"
        fi ;;
    *)
        [ "$(id -u)" = 0 ] || return
        truncate -s $((BIG * 3 + 512 * MiB)) "$img" || return
        case $fs in
        xfs) mkfs.xfs -q -f -m reflink=1 "$img" >/dev/null 2>&1 || return ;;
        btrfs) mkfs.btrfs -q -f "$img" >/dev/null 2>&1 || return ;;
        ext4) mkfs.ext4 -q -F "$img" >/dev/null 2>&1 || return ;;
        esac
        mkdir -p "$dir" && mount -o loop "$img" "$dir" 2>/dev/null || return
        nsf_mounts="$dir $nsf_mounts"; echo "$dir" ;;
    esac
}
if [ ! -x "$NSFBENCH" ]; then
    note "Case 6 skipped: $NSFBENCH is not built."
else
    for fs in xfs btrfs ext4 tmpfs; do
        d=$(nsf_fs_dir $fs)
        case $d in /*) nsf_mounts="$d $nsf_mounts" ;; *) note "Case 6 on $fs skipped: needs root, its mkfs tool and a loop device."; continue ;; esac
        log "case 6: NSFBackup on $fs, $((BIG / MiB)) MiB, writer at $NSF_WRITE_RATE writes/s, $REPS runs"
        head -c "$BIG" /dev/urandom > "$d/db.nsf" && sync -f "$d"
        rm -f "$RAW"/nsf-$fs-*
        round=1 ok=1
        while :; do
            for i in $(seq "$REPS"); do
                # counterbalanced: odd runs cp first, even runs NSFBackup first,
                # so each is as often the one that follows the other's delete
                for who in $([ $((i % 2)) = 1 ] && echo "cp nsf" || echo "nsf cp"); do
                    nsf_quiesce
                    cat "$d/db.nsf" > /dev/null
                    if [ $who = cp ]; then
                        t0=$(now)
                        cp --reflink=never "$d/db.nsf" "$d/cp.copy" && sync "$d/cp.copy"
                        t1=$(now)
                        c=$(calc "$t1 - $t0")
                        echo "$c" >> "$RAW/nsf-$fs-cp"
                        rm -f "$d/cp.copy"; sync -f "$d"
                    else
                        "$NSFBENCH" "$d/db.nsf" "$d/nsf.copy" "$NSF_WRITE_RATE" > "$RAW/out" 2>"$RAW/err" || { cat "$RAW/err" >&2; note "case 6 on $fs: nsfbench failed: $(cat "$RAW/err")"; ok=; break 2; }
                        field seconds < "$RAW/out" >> "$RAW/nsf-$fs-t"
                        field info_bytes < "$RAW/out" >> "$RAW/nsf-$fs-info"
                        field overwritten_bytes < "$RAW/out" >> "$RAW/nsf-$fs-over"
                        rm -f "$d/nsf.copy"; sync -f "$d"
                    fi
                done
                log "case 6 $fs run $round.$i: cp + sync $c s, NSFBackup $(field seconds < "$RAW/out") s, change info $(field info_bytes < "$RAW/out") bytes for $(field overwritten_bytes < "$RAW/out") overwritten"
            done
            # the reflink rows have a goal: another round while their interval is wide
            case $fs in xfs|btrfs) ;; *) break ;; esac
            [ -n "$ok" ] && [ $round -lt $MAX_ROUNDS ] && noisy "$RAW/nsf-$fs-t" "$RAW/nsf-$fs-cp" || break
            round=$((round + 1)); log "case 6 $fs: noisy ratio, round $round"
        done
        if [ -s "$RAW/nsf-$fs-t" ]; then
            t=$(median < "$RAW/nsf-$fs-t"); c=$(median < "$RAW/nsf-$fs-cp")
            row nsf "$fs: NSFBackup online copy (writer)" seconds "$t" s
            row nsf "$fs: cp + sync (no writer)" seconds "$c" s
            ratio_rows nsf "$fs: NSFBackup/cp" "$RAW/nsf-$fs-t" "$RAW/nsf-$fs-cp"
            row nsf "$fs: change info" bytes "$(median < "$RAW/nsf-$fs-info")" bytes
            row nsf "$fs: bytes overwritten during the backup" bytes "$(median < "$RAW/nsf-$fs-over")" bytes
            row nsf "$fs: change info/bytes overwritten" ratio "$(calc "$(median < "$RAW/nsf-$fs-info") / ($(median < "$RAW/nsf-$fs-over") + 1)")" x
        fi
        rm -f "$d/db.nsf"
        nsf_cleanup_mounts
        rm -f "$W/nsf-$fs.img"
    done
    note "Case 6: a $((BIG / MiB)) MiB file of random data, warm page cache; the NSFBackup run (bench/drivers/nsfbench.c) times Start, the copy (1 MiB reads, high-water mark every MiB), Stop, getting and applying the change info and the copy's fsync, while a writer process rewrites random 4 KiB blocks at $NSF_WRITE_RATE writes/s opening the file anew for each write; the anchor is cp --reflink=never + sync of the same file with no writer, run in alternating order with it (cp first in odd runs), each run after sync, an emptied page cache and a read of the file. Goal with reflink (XFS, btrfs): at most 1.1x cp and change info no larger than the bytes overwritten. On ext4 and tmpfs (read-lease recorder) the writer's first open breaks the lease and everything above the high-water mark is saved first: that cost is shown as measured. XFS, btrfs and ext4 are loop-mounted images on the disk under test."
fi
