#!/usr/bin/env bash
# A one-node Slurm cluster on this machine, for the tests that run mt's sharded stages through a real
# scheduler (and for trying pipelines/slurm.mk on a laptop). Needs root and Debian's slurm-wlm (munge,
# slurmctld, slurmd). Everything it makes lives under STATE (default /tmp/mt-slurm): configuration, logs,
# spool and pid files; the daemons run as root.
#
#   pipelines/tools/slurm-local.sh start     # configure and start munged, slurmctld, slurmd; wait until the node is idle
#   pipelines/tools/slurm-local.sh stop      # stop the three daemons (and nothing else)
#   pipelines/tools/slurm-local.sh env       # print the SLURM_CONF to export for sbatch/srun/sinfo
set -euo pipefail
STATE=${MT_SLURM_STATE:-/tmp/mt-slurm}
conf="$STATE/slurm.conf"

# Runs "$@" detached from every descriptor this script holds beyond /dev/null: the daemons outlive it,
# and a caller waiting for the end of this script's output (a test) must not wait for theirs.
detached() {
    (
        for fd in $(ls /proc/$BASHPID/fd); do
            [ "$fd" -gt 2 ] && eval "exec $fd>&-" 2>/dev/null
        done
        exec "$@" </dev/null >/dev/null 2>&1
    )
}

start() {
    [ "$(id -u)" = 0 ] || { echo "slurm-local.sh: needs root (it starts munged, slurmctld and slurmd)" >&2; exit 2; }
    for tool in munged slurmctld slurmd sbatch; do
        command -v "$tool" >/dev/null || { echo "slurm-local.sh: $tool not found: install Debian's slurm-wlm" >&2; exit 2; }
    done
    stop     # daemons a crashed run of this STATE may have left
    mkdir -p "$STATE"/{spool,state,log,run,munge}
    local node cpus memory
    node=$(hostname -s)
    cpus=$(nproc)
    memory=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 * 9 / 10 ))
    # Addresses are given (127.0.0.1), so the cluster does not depend on the host name resolving.
    cat >"$conf" <<CONF
ClusterName=mt-local
SlurmctldHost=$node(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$STATE/munge/munge.socket
CredType=cred/munge
StateSaveLocation=$STATE/state
SlurmdSpoolDir=$STATE/spool
SlurmctldPidFile=$STATE/run/slurmctld.pid
SlurmdPidFile=$STATE/run/slurmd.pid
SlurmctldLogFile=$STATE/log/slurmctld.log
SlurmdLogFile=$STATE/log/slurmd.log
SlurmctldPort=${MT_SLURM_PORT:-16817}
SlurmdPort=$(( ${MT_SLURM_PORT:-16817} + 1 ))
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
ReturnToService=2
MpiDefault=none
NodeName=$node NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$memory State=UNKNOWN
PartitionName=local Nodes=$node Default=YES MaxTime=INFINITE State=UP
CONF
    # munge: a fresh key, its own socket (a system munged, if any, is left alone).
    [ -f "$STATE/munge/munge.key" ] || { dd if=/dev/urandom of="$STATE/munge/munge.key" bs=1024 count=1 2>/dev/null; chmod 400 "$STATE/munge/munge.key"; }
    detached munged --force --key-file="$STATE/munge/munge.key" --socket="$STATE/munge/munge.socket" \
        --pid-file="$STATE/run/munged.pid" --log-file="$STATE/log/munged.log" --seed-file="$STATE/munge/munge.seed"
    SLURM_CONF=$conf detached slurmctld -f "$conf"
    SLURM_CONF=$conf detached slurmd -f "$conf"
    for _ in $(seq 60); do
        if SLURM_CONF=$conf sinfo -h -o %T 2>/dev/null | grep -q idle; then echo "slurm-local.sh: node $node idle (SLURM_CONF=$conf)"; return; fi
        sleep 1
    done
    echo "slurm-local.sh: the node did not come up; logs in $STATE/log" >&2
    tail -n 5 "$STATE"/log/*.log >&2 || true
    stop
    exit 1
}

stop() {
    # Every daemon of this cluster names STATE on its command line (socket, key, configuration), and no
    # other process does: stop those, and wait for them to go.
    pkill -f -- "$STATE/" 2>/dev/null || true
    for _ in $(seq 20); do pgrep -f -- "$STATE/" >/dev/null || return 0; sleep 0.5; done
    pkill -9 -f -- "$STATE/" 2>/dev/null || true
}

case ${1:-} in
start) start ;;
stop) stop ;;
env) echo "SLURM_CONF=$conf" ;;
*) echo "usage: slurm-local.sh start|stop|env" >&2; exit 2 ;;
esac
