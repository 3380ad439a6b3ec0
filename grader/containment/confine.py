"""Containment applied inside a freshly forked worker, before any student code runs.

On Linux the worker joins its cgroup, enters new user/mount/PID/network/IPC namespaces
where the kernel allows, then forks: the parent stays behind as a *keeper* (outside the
PID namespace, a subreaper, waiting), and only the child returns from `enter` to run the
student's code. Killing the keeper's tree, the cgroup or the namespace's first process
kills every descendant, including those that called setsid. The child then applies
rlimits, Landlock and seccomp. Every other system gets the layers it has.
"""
from __future__ import annotations

import ctypes
import os
import select
import signal
import sys

from grader.containment import capabilities
from grader.containment import cgroups
from grader.containment import isolation
from grader.containment import landlock
from grader.containment import namespaces
from grader.containment import reaper
from grader.containment import seccomp
from grader.protocol.jobs import Limits

PR_SET_PDEATHSIG = 1
LINUX = sys.platform.startswith("linux")
MIN_PID_MAX = 301  # the kernel's floor for pid_max


def die_with_parent() -> bool:
    """Ask the kernel to SIGKILL us when our parent dies (Linux)."""
    libc = namespaces.libc()
    return bool(libc) and libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0


def set_rlimits(limits: Limits, request: isolation.Request, nproc: bool) -> list[str]:
    """CPU time, data size, file size, core dumps (and processes where that binds)."""
    try:
        import resource
    except ImportError:  # Windows
        return []
    applied = []
    wanted = {"RLIMIT_CPU": limits.cpu_seconds, "RLIMIT_DATA": limits.memory_bytes,
              "RLIMIT_FSIZE": limits.file_bytes, "RLIMIT_CORE": 0}
    if nproc:
        wanted["RLIMIT_NPROC"] = limits.processes
    for name, value in wanted.items():
        layer = name.lower().replace("rlimit_", "rlimit-")
        which = getattr(resource, name, None)
        if which is None or not request.on(layer):
            continue
        try:
            _soft, hard = resource.getrlimit(which)
            cap = value if hard == resource.RLIM_INFINITY else min(value, hard)
            resource.setrlimit(which, (cap, cap))
            applied.append(layer)
        except (ValueError, OSError):
            pass
    return applied


def scrub_environment(box: str, threads: int) -> None:
    """Replace the environment with a minimal one; pin thread counts (for what starts a pool from
    here on: numpy's BLAS already has the warm parent's one thread, `forkserver_init`)."""
    keep = {k: os.environ[k] for k in ("PATH", "LANG", "LC_ALL", "SYSTEMROOT") if k in os.environ}
    os.environ.clear()
    os.environ.update(keep)
    n = str(threads)
    os.environ.update(HOME=box, TMPDIR=box, TMP=box, TEMP=box, OMP_NUM_THREADS=n, MKL_NUM_THREADS=n,
                      OPENBLAS_NUM_THREADS=n, PYTHONHASHSEED="0", MPLBACKEND="Agg")


def wipe_initial_environment() -> bool:
    """Zero the environment strings the process started with (what /proc/self/environ shows).

    A forked worker inherits the judge's original environment block; clearing os.environ
    does not erase it. Call after os.environ was cleared, so nothing points into it.
    """
    if not LINUX:
        return False
    try:
        with open("/proc/self/stat", "rb") as fh:
            stat = fh.read()
        fields = stat[stat.rindex(b")") + 2 :].split()
        start, end = int(fields[47]), int(fields[48])  # env_start, env_end (fields 50 and 51)
    except (OSError, ValueError, IndexError):
        return False
    if not 0 < start < end or end - start > 1 << 24:
        return False
    ctypes.memset(start, 0, end - start)
    return True


def clean_sys_path() -> None:
    """Drop the cwd, '' and user site from sys.path; keep the interpreter's own entries."""
    import site

    user = getattr(site, "USER_SITE", None) or ""
    cwd = os.getcwd()
    sys.path[:] = [p for p in sys.path if p not in ("", ".", cwd) and not (user and p.startswith(user))]


def redirect_output(log_path: str) -> None:
    """Send fd 1 and 2 to the judge's log file (read back capped, never scored)."""
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    if hasattr(signal, "SIGXFSZ"):
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)


def close_inherited() -> None:
    """Close the judge's "alive" pipe and resource-tracker fd that a forkserver child inherits.

    While any process holds the alive pipe, the forkserver outlives a killed judge, and so
    would the workers that are meant to die with it.
    """
    try:
        from multiprocessing import forkserver, resource_tracker
    except ImportError:
        return
    for holder, attr in ((forkserver._forkserver, "_forkserver_alive_fd"),
                         (resource_tracker._resource_tracker, "_fd")):
        fd = getattr(holder, attr, None)
        if isinstance(fd, int) and fd > 2:
            try:
                os.close(fd)
            except OSError:
                pass
            setattr(holder, attr, None)


def enter(box: str, log_path: str, limits: Limits, request: isolation.Request | None = None) -> list[str]:
    """Apply every layer available here; return the names of those that are active.

    On Linux this forks: only the confined child returns.
    """
    request = request or isolation.Request()
    layers: list[str] = []
    close_inherited()
    if hasattr(os, "setsid"):
        os.setsid()
        layers.append("setsid")
    if request.on("pdeathsig") and die_with_parent():
        layers.append("pdeathsig")
    if request.cgroup_dirs:
        layers += cgroups.join(cgroups.Group(request.cgroup_dirs, request.cgroup_layers))
    redirect_output(log_path)
    if LINUX:
        layers += _linux(box, limits, request, layers)
    os.chdir(box)
    clean_sys_path()
    if request.on("env-scrub"):
        scrub_environment(box, limits.threads)
        wipe_initial_environment()
        layers.append("env-scrub")
    nproc = request.on("rlimit-nproc") and os.getuid() != 0 and "userns" in layers
    layers += set_rlimits(limits, request, nproc)
    if LINUX:
        layers += _lock(box, request, layers)
    return layers


def _linux(box: str, limits: Limits, request: isolation.Request, before: list[str]) -> list[str]:
    """Namespaces, hidden mounts, and the keeper fork; returns in the confined child only."""
    wanted = tuple(n for n in ("userns", "mntns", "pidns", "netns", "ipcns", "utsns") if request.on(n))
    layers = list(namespaces.enter(wanted))
    if "mntns" in layers and namespaces.make_mounts_private():
        folders = [h for h in request.hide if os.path.isdir(h)]  # files are Landlock's (no mount on a file)
        if request.on("mount-hide") and folders and all(namespaces.mount_tmpfs(h, 4096, 0) for h in folders):
            layers.append("mount-hide")
        shm = namespaces.mount_quota(box, request.box_bytes) if request.on("box-quota") else None
        if shm is not None:
            layers.append("box-quota")
        if request.on("dev-private") and namespaces.private_dev(request.devices, shm, request.box_bytes):
            layers.append("dev-private")
    layers += _split(request)
    if "pidns" in layers:
        if "mntns" in layers and request.on("proc-private") and namespaces.mount_proc():
            layers.append("proc-private")
        if request.on("pid-max") and namespaces.set_pid_max(max(MIN_PID_MAX, limits.processes)):
            layers.append("pid-max")
    return layers


def _split(request: isolation.Request) -> list[str]:
    """Fork; the parent becomes the keeper and never returns. The child returns its layers."""
    layers = []
    if request.on("subreaper") and reaper.become_subreaper():
        layers.append("subreaper")
    alive_r, alive_w = os.pipe()
    pid = os.fork()
    if pid:
        os.close(alive_r)
        _keep(pid, alive_w, request.on("subreaper"))
    os.close(alive_w)
    if request.on("pdeathsig") and not die_with_parent():
        os._exit(70)
    if select.select([alive_r], [], [], 0)[0]:  # the keeper died before we could ask
        os._exit(70)
    os.close(alive_r)
    os.setsid()  # our own session: killpg(0) from student code reaches only its own tree
    return layers


def _keep(child: int, alive_w: int, sweep: bool) -> None:
    """The keeper: wait for the child, kill whatever it left behind, exit as it did."""
    os.closerange(3, alive_w)
    os.closerange(alive_w + 1, 1 << 16)
    status = 0
    while True:
        try:
            pid, st = os.waitpid(-1, 0)
        except ChildProcessError:
            break
        except InterruptedError:
            continue
        if pid == child:
            status = st
            break
    if sweep:
        reaper.kill_descendants(os.getpid(), reap_children=True)
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        signal.signal(sig, signal.SIG_DFL)
        os.kill(os.getpid(), sig)
    os._exit(os.WEXITSTATUS(status) if os.WIFEXITED(status) else 1)


def _lock(box: str, request: isolation.Request, before: list[str]) -> list[str]:
    """Terminals, capabilities, Landlock and seccomp: last, since they also restrict what the
    steps above need."""
    layers: list[str] = []
    if request.on("no-tty") and capabilities.detach_terminals():
        layers.append("no-tty")
    if request.on("caps-drop") and capabilities.drop_all():
        layers.append("caps-drop")
    if request.on("landlock"):
        private = "dev-private" in before  # never the host's /dev/shm or terminals
        shm = ("/dev/shm",) if private else ()
        ptys = ("/dev/pts",) if private and os.path.exists("/dev/pts/ptmx") else ()
        devices = tuple(f"/dev/{n}" for n in namespaces.DEVICES)
        policy = landlock.Policy(read=landlock.read_roots(request.hide), write=(box,) + shm,
                                 devices=devices, ioctl_devices=request.devices + ptys,
                                 deny_tcp=request.on("landlock-net"), scope=request.on("landlock-scope"))
        layers += landlock.restrict(policy)
    if request.on("seccomp") and seccomp.install():
        layers.append("seccomp")
    libc = namespaces.libc()
    if libc is not None and request.on("no-new-privs") and libc.prctl(38, 1, 0, 0, 0) == 0:
        layers.append("no-new-privs")
    return layers


def missing(layers: list[str], request: isolation.Request) -> list[str]:
    """The required layers that did not take effect."""
    return [r for r in request.required if r not in layers]
