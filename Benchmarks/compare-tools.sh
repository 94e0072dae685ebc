#!/usr/bin/env bash
# dbs against restic, borg and tar | zstd -1 | age on the same generated tree, same run.
#
#   Benchmarks/compare-tools.sh [--size 2G] [--runs 3] [--seed N] [--work DIR]
#                               [--tools "dbs dbs-noverify restic borg tar-zstd-age"]
#                               [--no-restore] [--wait-load L] [--keep] [--small-files N]
#                               [--both [N]] [--small-tools "..."] [--cache cold|warm]
#
# --size     tree size, bytes or with K/M/G suffix (binary units); default 2G
# --runs     rounds; each round runs every tool once, the order rotated by one each round
#            (A B C D, B C D A, ...), so all see the same machine load and no tool always
#            takes the first slot (the very first timed run, right after the tree is
#            generated, was 1.3-1.8x slower for dbs in every run here, cause unknown);
#            the table shows medians over rounds
# --seed     generator seed (default 20261128): the same seed and size give the same tree
# --work     where the tree, repositories, outputs and restores go (one filesystem);
#            default a fresh directory under ${TMPDIR:-/var/tmp}
# --tools    which of them to run, in this order (default all five)
# --no-restore  backup side only
# --wait-load   before each round, wait (up to 5 minutes) for the 1-minute load to drop
#               below L; the load is printed either way
# --keep     leave the work directory behind
# --small-files N  the small-files shape instead: N files of 256 B to 256 KiB (skewed
#            to the small end, mean about 13 KiB; --size caps the total), 100 per leaf
#            directory three levels deep (gen-tree.c), as a media directory
# --both [N] both shapes in the same run: the --size tree with --tools, and N small files
#            (default 100000) with --small-tools (default "dbs restic borg tar-zstd-age");
#            each round runs every tool on both shapes
# --cache    cold (the default as root): sync and drop the page cache
#            (/proc/sys/vm/drop_caches) before every timed command, so every tool reads
#            its input (the tree, or its repository) from the disk; warm (the default
#            otherwise): read the input once right before every timed command instead
#
# Fairness (see docs/PERFORMANCE.md, "Comparison with other tools"):
# - every tool starts from the same page cache (--cache: dropped before each timed
#   command, or its input read just before) and writes to the same filesystem; each
#   timed command is followed by a timed `sync`, so "wall+sync" has every tool pay for
#   getting its bytes to disk, whatever its own fsync policy (dbs fsyncs its output, and
#   syncfs-es the restored files before they take their names);
# - encryption on everywhere: dbs (Argon2id 64 MiB default, AES-256-GCM), restic (always),
#   borg repokey (HMAC-SHA256 ids + AES-CTR; the CPU has SHA-NI, so it is borg's fast
#   mode here), age to an X25519 recipient from age-keygen (age's passphrase mode only
#   prompts on a TTY);
# - each tool's fast default compression: dbs zstd level 1, restic --compression auto
#   (repository format 2), borg -C lz4 (its default), zstd -1;
# - repositories are initialised outside the timed part, caches live in the work dir;
#   restic and borg use the cores as they like (GOMAXPROCS unset), dbs --threads 2.
# Each figure comes from /usr/bin/time: wall, user+sys CPU, and peak RSS (for the tar
# pipeline the largest of its processes). Every restore is compared with diff -r.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

size=2G runs=3 seed=20261128 work="" restore=1 wait_load="" keep=0 small_files= both=
tools=(dbs dbs-noverify restic borg tar-zstd-age)
small_tools=(dbs restic borg tar-zstd-age)
cache=warm
if [ "$(id -u)" = 0 ] && [ -w /proc/sys/vm/drop_caches ]; then cache=cold; fi
while [ $# -gt 0 ]; do
    case $1 in
        --size) size=$2; shift 2 ;;
        --runs) runs=$2; shift 2 ;;
        --seed) seed=$2; shift 2 ;;
        --work) work=$2; shift 2 ;;
        --tools) read -r -a tools <<< "$2"; shift 2 ;;
        --no-restore) restore=0; shift ;;
        --wait-load) wait_load=$2; shift 2 ;;
        --keep) keep=1; shift ;;
        --small-files) small_files=$2; shift 2 ;;
        --both)
            both=100000
            if [ $# -gt 1 ] && [[ $2 =~ ^[0-9]+$ ]]; then both=$2; shift; fi
            shift ;;
        --small-tools) read -r -a small_tools <<< "$2"; shift 2 ;;
        --cache) cache=$2; shift 2 ;;
        *) echo "compare-tools: unknown argument $1" >&2; exit 2 ;;
    esac
done
bytes=$(numfmt --from=iec "$size")

# --- tools (idempotent: apt-get only for what is missing) --------------------------------
need=()
command -v restic >/dev/null || need+=(restic)
command -v borg >/dev/null || need+=(borgbackup)
command -v age >/dev/null || need+=(age)
command -v zstd >/dev/null || need+=(zstd)
[ -x /usr/bin/time ] || need+=(time)
command -v cc >/dev/null || need+=(gcc)
if [ ${#need[@]} -gt 0 ]; then
    echo "installing ${need[*]}" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}" >/dev/null
fi

swift build -c release --product dbs 2>&1 | grep -E "error|warning:" || true
dbs=$(swift build -c release --show-bin-path)/dbs

if [ -z "$work" ]; then work=$(mktemp -d "${TMPDIR:-/var/tmp}/dbs-compare.XXXXXX"); fi
mkdir -p "$work"
work=$(cd "$work" && pwd)
if [ "$keep" = 0 ]; then trap 'rm -rf "$work"' EXIT; fi
cc -O2 -Wall -o "$work/gen-tree" "$root/Benchmarks/compare/gen-tree.c" -lm

export DBS_PASSPHRASE=compare-tools-passphrase
export RESTIC_PASSWORD=$DBS_PASSPHRASE BORG_PASSPHRASE=$DBS_PASSPHRASE
export RESTIC_CACHE_DIR=$work/cache/restic BORG_BASE_DIR=$work/cache/borg
export BORG_RELOCATED_REPO_ACCESS_IS_OK=yes BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK=yes
unset GOMAXPROCS

cd "$work"
age-keygen -o age.key 2>/dev/null
recipient=$(age-keygen -y age.key)

# The shapes this run measures, each in its own directory with its own tree and tools:
# NAME:BYTES:FILES (FILES empty for the mixed tree).
if [ -n "$both" ]; then
    shapes=("tree:$bytes:" "small:$(numfmt --from=iec 4G):$both")
elif [ -n "$small_files" ]; then
    shapes=("small:$bytes:$small_files")
else
    shapes=("tree:$bytes:")
fi
shape_tools() { if [ "$1" = small ] && [ -n "$both" ]; then echo "${small_tools[*]}"; else echo "${tools[*]}"; fi; }
for shape in "${shapes[@]}"; do
    IFS=: read -r name shape_bytes files <<< "$shape"
    rm -rf "$name"
    mkdir -p "$name"
    (cd "$name" && ../gen-tree tree "$shape_bytes" "$seed" $files >&2)
done

# --- machine and versions ------------------------------------------------------------
{
    echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -r)"
    echo "cpu flags: $(grep -m1 '^flags' /proc/cpuinfo | grep -o -w -E 'avx2|avx512f|aes|vaes|sha_ni|pclmulqdq|vpclmulqdq|gfni' | sort -u | tr '\n' ' ')"
    echo "filesystem: $(df -h --output=source,fstype . | tail -1 | tr -s ' ')"
    for shape in "${shapes[@]}"; do
        IFS=: read -r name _ _ <<< "$shape"
        echo "shape $name: $(du -sb "$name/tree" | cut -f1) bytes, $(find "$name/tree" -type f | wc -l) files, $(find "$name/tree" -type d | wc -l) directories, seed $seed; tools: $(shape_tools "$name")"
    done
    echo "page cache: $cache"
    echo "dbs: $("$dbs" version 2>&1 | tr '\n' ' ')"
    echo "restic: $(restic version)"
    echo "borg: $(borg --version)"
    echo "age: $(age --version); zstd: $(zstd --version | sed 's/\*//g;s/^ *//'); tar: $(tar --version | head -1)"
} | tee info.txt >&2

# Prepares the empty repository or output location of TOOL (outside the timing).
prepare() {
    rm -rf out restored
    case $1 in
        restic) restic init -q --repository-version 2 -r out >/dev/null ;;
        borg) borg init -e repokey out >/dev/null 2>&1 ;;
        *) ;;
    esac
}

# Prints the backup command of TOOL.
backup_command() {
    case $1 in
        dbs) echo "$dbs backup out tree --threads 2 --quiet" ;;
        dbs-noverify) echo "$dbs backup out tree --threads 2 --quiet --no-verify" ;;
        restic) echo "restic -r out backup -q --compression auto tree" ;;
        borg) echo "borg create -C lz4 out::a tree" ;;
        tar-zstd-age) echo "tar -cf - tree | zstd -1 -q | age -r $recipient -o out" ;;
    esac
}

# Prints the restore command of TOOL (into ./restored, which exists).
restore_command() {
    case $1 in
        dbs | dbs-noverify) echo "$dbs restore out --to restored --threads 2" ;;
        restic) echo "restic -r out restore -q latest --target restored" ;;
        borg) echo "cd restored && borg extract ../out::a" ;;
        tar-zstd-age) echo "age -d -i ../age.key out | zstd -d -q | tar -xf - -C restored" ;;
    esac
}

# Puts the page cache in the same state for every tool before a timed command: cold
# (everything written back, then every clean page dropped: the input comes from the
# disk) or warm (INPUT, the tree or the repository, read once just before).
settle_cache() {
    sync
    if [ "$cache" = cold ]; then
        echo 3 > /proc/sys/vm/drop_caches
    else
        find "$1" -type f -print0 | xargs -0 cat > /dev/null
    fi
}

# Runs COMMAND (a shell line) under /usr/bin/time, then times a closing `sync` on its own
# (dbs fsyncs its output itself; whatever a tool left dirty is paid here); appends one row.
timed() {
    local shape=$1 tool=$2 phase=$3 run=$4 command=$5 input=$6
    settle_cache "$input"
    /usr/bin/time -f "%e %U %S %M" -o time.txt bash -c "$command"
    local started ended wall user sys rss cpu flush outsize
    started=$(date +%s.%N)
    sync
    ended=$(date +%s.%N)
    read -r wall user sys rss < time.txt
    cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')
    flush=$(awk -v a="$started" -v b="$ended" 'BEGIN { printf "%.2f", b - a }')
    outsize=$(du -sb out | cut -f1)
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$tool" "$phase" "$run" "$wall" "$flush" "$cpu" "$rss" \
        "$outsize" "$shape" >> ../results.tsv
    printf '  %-6s %-13s %-7s wall %6.2fs sync %5.2fs cpu %6.2fs rss %7d KiB out %d\n' "$shape" "$tool" "$phase" \
        "$wall" "$flush" "$cpu" "$rss" "$outsize" >&2
}

# Finds the restored copy of ./tree under ./restored (restic keeps the absolute path).
restored_tree() {
    find restored -type d -name tree -print -quit
}

: > results.tsv
: > load.txt
for run in $(seq 1 "$runs"); do
    if [ -n "$wait_load" ]; then
        for _ in $(seq 1 30); do
            awk -v l="$wait_load" '{ exit !($1 < l) }' /proc/loadavg && break
            sleep 10
        done
    fi
    echo "run $run: $(uptime)" | tee -a load.txt >&2
    for shape in "${shapes[@]}"; do
        IFS=: read -r name _ _ <<< "$shape"
        read -r -a shape_list <<< "$(shape_tools "$name")"
        shift_by=$(( (run - 1) % ${#shape_list[@]} ))
        order=("${shape_list[@]:shift_by}" "${shape_list[@]:0:shift_by}")
        cd "$work/$name"
        for tool in "${order[@]}"; do
            prepare "$tool"
            timed "$name" "$tool" backup "$run" "$(backup_command "$tool")" tree
            if [ "$restore" = 1 ] && [ "$tool" != dbs-noverify ]; then
                mkdir restored
                timed "$name" "$tool" restore "$run" "$(restore_command "$tool")" out
                if ! diff -r tree "$(restored_tree)" > ../diff.txt; then
                    echo "RESTORE MISMATCH for $tool on $name in run $run:" >&2
                    head -20 ../diff.txt >&2
                    exit 1
                fi
            fi
        done
        rm -rf out restored
        cd "$work"
    done
done
echo "after: $(uptime)" | tee -a load.txt >&2

# --- tables: medians over runs, one per shape ----------------------------------------------
echo
cat info.txt
cat load.txt
echo "runs $runs; medians over runs; wall is the tool alone, wall+sync adds the closing sync"
for shape in "${shapes[@]}"; do
IFS=: read -r name _ _ <<< "$shape"
input=$(du -sb "$name/tree" | cut -f1)
echo
echo "shape $name ($input bytes):"
echo
awk -F'\t' -v shape="$name" -v input="$input" -v order="$(shape_tools "$name")" '
function median(list,   n, a, i, j, t) {
    n = split(list, a, " ")
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
$9 == shape {
    k = $1 SUBSEP $2; seen[k] = 1; out[k] = $8
    wall[k] = wall[k] " " $4; durable[k] = durable[k] " " ($4 + $5); cpu[k] = cpu[k] " " $6; rss[k] = rss[k] " " $7
}
END {
    gib = input / 1073741824
    printf "| tool | phase | wall s | wall+sync s | GiB/s (wall+sync) | CPU s (user+sys) | peak RSS MiB | output MiB | output/input |\n"
    printf "|---|---|---:|---:|---:|---:|---:|---:|---:|\n"
    split("backup restore", phases, " ")
    n = split(order, tools, " ")
    for (p = 1; p <= 2; p++) for (t = 1; t <= n; t++) {
        k = tools[t] SUBSEP phases[p]
        if (!seen[k]) continue
        w = median(durable[k])
        printf "| %s | %s | %.2f | %.2f | %.3f | %.2f | %.0f |", tools[t], phases[p], median(wall[k]), w, gib / w,
            median(cpu[k]), median(rss[k]) / 1024
        if (phases[p] == "backup") printf " %.0f | %.3f |\n", out[k] / 1048576, out[k] / input
        else printf " | |\n"
    }
}' results.tsv
echo
echo "each round (wall+sync s / CPU s):"
echo
awk -F'\t' -v shape="$name" -v runs="$runs" -v order="$(shape_tools "$name")" '
$9 == shape { k = $1 SUBSEP $2; seen[k] = 1; cell[k, $3] = sprintf("%.2f / %.2f", $4 + $5, $6) }
END {
    printf "| tool | phase |"; for (r = 1; r <= runs; r++) printf " round %d |", r; printf "\n|---|---|"
    for (r = 1; r <= runs; r++) printf "---:|"; printf "\n"
    split("backup restore", phases, " ")
    n = split(order, tools, " ")
    for (p = 1; p <= 2; p++) for (t = 1; t <= n; t++) {
        k = tools[t] SUBSEP phases[p]
        if (!seen[k]) continue
        printf "| %s | %s |", tools[t], phases[p]
        for (r = 1; r <= runs; r++) printf " %s |", cell[k, r]
        printf "\n"
    }
}' results.tsv
done
