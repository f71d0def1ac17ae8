#!/usr/bin/env bash
# A single-node SLURM cluster on localhost, to test profiles/slurm for real (Debian's
# slurm-wlm and munge, run as root, no systemd, cgroups or accounting database).
#
#   tools/slurm_local.sh install   # apt packages; does nothing if already installed
#   tools/slurm_local.sh start     # munged, slurmctld, slurmd; waits for an idle node
#   tools/slurm_local.sh stop      # cancels our jobs, then stops the daemons by PID
#
# The node has partitions "cpu" (the default) and "gpu" with one fake GPU, matching
# profiles/slurm. It refuses to touch an /etc/slurm/slurm.conf it did not write.
set -euo pipefail

MARK="# spikecut local test cluster"
CONF=/etc/slurm/slurm.conf
PIDS=(/run/slurmd.pid /run/slurmctld.pid /run/munge/munged.pid)

die() { echo "slurm_local: $*" >&2; exit 1; }

install() {
    if command -v slurmctld >/dev/null && command -v slurmd >/dev/null \
        && command -v sbatch >/dev/null && command -v munged >/dev/null; then
        return
    fi
    [ "$(id -u)" = 0 ] || die "installing needs root (apt-get)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        slurmctld slurmd slurm-client munge >/dev/null
}

write_config() {
    local host cpus mem
    host=$(hostname -s)
    cpus=$(nproc)
    mem=$(( $(free -m | awk '/^Mem:/ {print $2}') - 1024 ))
    if [ -e "$CONF" ] && ! grep -qF "$MARK" "$CONF"; then
        die "$CONF exists and is not ours; not overwriting a real cluster's config"
    fi
    mkdir -p /etc/slurm
    cat >"$CONF" <<EOF
$MARK
ClusterName=spikecut
SlurmctldHost=$host
SlurmUser=root
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
MpiDefault=none
MinJobAge=600
ReturnToService=2
EnforcePartLimits=ALL
GresTypes=gpu
NodeName=$host CPUs=$cpus RealMemory=$mem Gres=gpu:fake:1 State=UNKNOWN
PartitionName=cpu Nodes=$host Default=YES MaxTime=INFINITE State=UP
PartitionName=gpu Nodes=$host MaxTime=INFINITE State=UP
EOF
    echo "$MARK
NodeName=$host Name=gpu Type=fake Count=1 File=/dev/null" >/etc/slurm/gres.conf
}

running() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

start() {
    [ "$(id -u)" = 0 ] || die "the local cluster runs as root"
    command -v slurmctld >/dev/null || die "SLURM is not installed: run '$0 install'"
    mkdir -p /run/munge /var/log/munge /var/lib/munge /etc/munge \
        /var/spool/slurmctld /var/spool/slurmd /var/log/slurm
    [ -s /etc/munge/munge.key ] || dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 \
        count=1 status=none
    chmod 400 /etc/munge/munge.key
    chown -R munge:munge /run/munge /var/log/munge /var/lib/munge /etc/munge
    write_config
    # as the munge user: started as root once, munged's log turns root-owned and later
    # starts refuse it
    running /run/munge/munged.pid || runuser -u munge -- munged
    running /run/slurmctld.pid || slurmctld
    running /run/slurmd.pid || slurmd
    for _ in $(seq 60); do
        case "$(sinfo -h -N -o %T 2>/dev/null)" in
            idle*|mixed*|allocated*) return ;;
        esac
        sleep 0.5
    done
    die "the node did not come up; see /var/log/slurm/"
}

stop() {
    scancel -u "$(id -un)" 2>/dev/null || true
    for pidfile in "${PIDS[@]}"; do
        if running "$pidfile"; then
            pid=$(cat "$pidfile")
            kill "$pid"
            for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        fi
    done
}

case "${1:-}" in
    install) install ;;
    start) start ;;
    stop) stop ;;
    *) die "usage: $0 install|start|stop" ;;
esac
