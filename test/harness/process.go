package harness

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"k8s.io/client-go/rest"

	"github.com/dora-hpc/dora-operator/internal/simcluster"
)

// A ManagerProcess is the manager binary (cmd/manager) run as its own process against the
// environment's cluster, as its service account with exactly config/rbac's permissions,
// serving the webhooks where the installed configurations point. Unlike the in-process
// manager (StartManager, StopManager), it can be killed for real (SIGKILL): no deferred
// call, no lease release, no in-flight request finished. Stop the in-process manager
// first: the two would fight over the webhook port.
type ManagerProcess struct {
	bin        string
	kubeconfig string
	args       []string
	// webhookAddr is where it serves the webhooks.
	webhookAddr string
	log         *os.File
	cmd         *exec.Cmd
	exited      chan struct{}
}

// BuildManager builds cmd/manager into dir and returns the binary's path.
func BuildManager(ctx context.Context, dir string) (string, error) {
	root, err := simcluster.RepoRoot()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "manager")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/manager")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building the manager: %w\n%s", err, out)
	}
	return bin, nil
}

// NewManagerProcess prepares bin to run for the environment's zone, with a kubeconfig (in
// dir) that impersonates the manager's service account, no leader election (one process at
// a time: a killed leader's lease would hold the next one back until it expired), metrics
// and probes off, and its output appended to manager-process.log in the cluster's LogDir.
// Nothing runs until Start.
func (e *Env) NewManagerProcess(bin, dir string, extraArgs ...string) (*ManagerProcess, error) {
	kubeconfig := filepath.Join(dir, "manager.kubeconfig")
	as := rest.ImpersonationConfig{UserName: e.Manager.UserName(), Groups: e.Manager.Groups()}
	if err := simcluster.ImpersonatingKubeconfig(e.Cluster.Kubeconfig, kubeconfig, as); err != nil {
		return nil, err
	}
	log, err := os.OpenFile(filepath.Join(e.Cluster.LogDir, "manager-process.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	wh := e.Cluster.Webhook
	args := append([]string{
		"--kubeconfig=" + kubeconfig,
		"--zone=" + e.zone,
		"--namespace=" + e.Manager.Namespace,
		"--webhook-host=" + wh.LocalServingHost,
		"--webhook-port=" + strconv.Itoa(wh.LocalServingPort),
		"--webhook-cert-dir=" + wh.LocalServingCertDir,
		"--metrics-bind-address=0",
		"--health-probe-bind-address=0",
		"--leader-elect=false",
	}, extraArgs...)
	addr := net.JoinHostPort(wh.LocalServingHost, strconv.Itoa(wh.LocalServingPort))
	return &ManagerProcess{bin: bin, kubeconfig: kubeconfig, args: args, webhookAddr: addr, log: log}, nil
}

// Running reports whether a process started by Start has not exited.
func (p *ManagerProcess) Running() bool {
	if p.cmd == nil {
		return false
	}
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// Start starts the manager once the webhook port is free (a killed process's may take a
// moment to be let go) and returns once its webhook server listens, as StartManager does.
func (p *ManagerProcess) Start() error {
	if p.Running() {
		return errors.New("the manager process is already running")
	}
	addr := p.webhookAddr
	if err := waitFor(func() bool {
		l, err := net.Listen("tcp", addr)
		if err == nil {
			_ = l.Close()
		}
		return err == nil
	}); err != nil {
		return fmt.Errorf("the webhook port %s stayed in use: %w", addr, err)
	}
	cmd := exec.Command(p.bin, p.args...)
	cmd.Stdout, cmd.Stderr = p.log, p.log
	if _, err := fmt.Fprintf(p.log, "=== harness: starting the manager at %s\n", time.Now().Format(time.RFC3339Nano)); err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting the manager: %w", err)
	}
	p.cmd, p.exited = cmd, make(chan struct{})
	exited := p.exited
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	err := waitFor(func() bool {
		if !p.Running() {
			return true
		}
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			_ = conn.Close()
		}
		return err == nil
	})
	if !p.Running() {
		return fmt.Errorf("the manager exited at start (%s): see %s", cmd.ProcessState, p.log.Name())
	}
	if err != nil {
		return errors.Join(fmt.Errorf("the webhook server did not listen on %s: %w", addr, err), p.Kill())
	}
	return nil
}

// Kill sends the running manager SIGKILL and waits until it is gone. It does nothing when
// no manager runs.
func (p *ManagerProcess) Kill() error {
	if !p.Running() {
		return nil
	}
	if err := p.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("killing the manager: %w", err)
	}
	<-p.exited
	_, err := fmt.Fprintf(p.log, "=== harness: killed the manager (pid %d) at %s\n", p.cmd.Process.Pid, time.Now().Format(time.RFC3339Nano))
	return err
}

// Close kills the manager if it runs and closes its log.
func (p *ManagerProcess) Close() error {
	return errors.Join(p.Kill(), p.log.Close())
}
