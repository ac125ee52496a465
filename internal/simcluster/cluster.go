// Package simcluster runs a simulated GPU cluster on one machine: etcd and kube-apiserver
// (through envtest), kube-controller-manager, kube-scheduler and kwok, with fake nodes that
// carry nvidia.com/gpu capacity and gpu-feature-discovery labels. Tests, benchmarks and the
// playground use it. Every binary comes from bin/, built by make from the Go module proxy.
package simcluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// Options configure a simulated cluster. The zero value starts the full cluster with no
// nodes, binaries from <repo>/bin and the CRDs from <repo>/config/crd/bases.
type Options struct {
	// BinDir holds etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok and
	// kwok-stages.yaml. Default: <repo>/bin.
	BinDir string
	// WorkDir receives the kubeconfig and one log file per component. Default: a new
	// temporary directory, removed by Stop.
	WorkDir string
	// CRDDirs are installed before Start returns. Default: <repo>/config/crd/bases.
	CRDDirs []string
	// WebhookDirs hold webhook configurations to install, pointed at a local webhook server
	// whose address and certificate are in Cluster.Webhook.
	WebhookDirs []string
	// NodePortRange is the API server's --service-node-port-range. Default: 30000-32767.
	NodePortRange string
	// Fleet is created (and waited for, until Ready) before Start returns.
	Fleet Fleet
	// APIServerOnly starts etcd and kube-apiserver only: no controllers, scheduler or nodes.
	// This is envtest, for tests of what the API server alone owns.
	APIServerOnly bool
	// ExtraAPIServerFlags are added to kube-apiserver's command line, as name=value.
	ExtraAPIServerFlags map[string]string
	// Kwok, when set, makes kwok serve pods' logs and exec (see KwokServer).
	Kwok *KwokServer
	// NodeLeaseSeconds is the length of the fake nodes' leases. kwok renews each a quarter
	// of the way (a thousand nodes on 40 s leases are 100 writes a second); longer leases
	// keep a big fleet Ready at less cost, and the node lifecycle controller's grace period
	// grows with them (one and a half leases). Default: 40.
	NodeLeaseSeconds int
	// QuietKwok makes kwok log warnings and errors only: at its default level it logs every
	// pod it moves, a line a pod for a bench of tens of thousands.
	QuietKwok bool
	// KwokPodParallelism is how many pods kwok moves through their stages at once, one API
	// round trip each; with it, kwok also works on 8 nodes' stages and 8 leases at once. 0
	// keeps kwok's defaults (4 of each): a few hundred pods a second at best, so a bench's
	// tens of thousands of pods would wait on kwok longer than on the manager.
	KwokPodParallelism int
}

// defaultNodeLeaseSeconds is the fake nodes' lease length unless told otherwise.
const defaultNodeLeaseSeconds = 40

// Cluster is a running simulated cluster.
type Cluster struct {
	// Config reaches the API server as a cluster administrator.
	Config *rest.Config
	// Kubeconfig is the path of a kubeconfig file for kubectl and the components.
	Kubeconfig string
	// LogDir holds one log file per component.
	LogDir string
	// Webhook is where a webhook server must listen for the installed webhook configurations.
	Webhook *envtest.WebhookInstallOptions

	env        *envtest.Environment
	procs      []*process
	logs       []*os.File
	workDir    string
	ownWorkDir bool
}

// Start brings a cluster up. On error everything already started is stopped.
func Start(ctx context.Context, opts Options) (c *Cluster, err error) {
	root, err := RepoRoot()
	if err != nil && (opts.BinDir == "" || opts.CRDDirs == nil) {
		return nil, err
	}
	if opts.BinDir == "" {
		opts.BinDir = filepath.Join(root, "bin")
	}
	if opts.CRDDirs == nil {
		opts.CRDDirs = []string{filepath.Join(root, "config", "crd", "bases")}
	}
	if opts.NodePortRange == "" {
		opts.NodePortRange = "30000-32767"
	}
	if err := checkBinaries(opts); err != nil {
		return nil, err
	}

	c = &Cluster{workDir: opts.WorkDir}
	if c.workDir == "" {
		if c.workDir, err = os.MkdirTemp("", "dora-simcluster-"); err != nil {
			return nil, err
		}
		c.ownWorkDir = true
	}
	c.LogDir = filepath.Join(c.workDir, "logs")
	if err := os.MkdirAll(c.LogDir, 0o755); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			_ = c.Stop()
			c = nil
		}
	}()

	port, err := webhookPort()
	if err != nil {
		return c, err
	}
	c.env = &envtest.Environment{
		BinaryAssetsDirectory: opts.BinDir,
		CRDDirectoryPaths:     opts.CRDDirs,
		ErrorIfCRDPathMissing: true,
		WebhookInstallOptions: envtest.WebhookInstallOptions{Paths: opts.WebhookDirs, LocalServingHost: "127.0.0.1", LocalServingPort: port},
	}
	apiServer := c.env.ControlPlane.GetAPIServer()
	apiServerLog := c.logFile("kube-apiserver")
	apiServer.Out, apiServer.Err = apiServerLog, apiServerLog
	args := apiServer.Configure()
	args.Set("service-node-port-range", opts.NodePortRange)
	args.Set("service-cluster-ip-range", "10.96.0.0/16")
	for k, v := range opts.Kwok.apiServerFlags(opts.ExtraAPIServerFlags) {
		args.Set(k, v)
	}
	etcdLog := c.logFile("etcd")
	c.env.ControlPlane.Etcd = &envtest.Etcd{Out: etcdLog, Err: etcdLog}

	if c.Config, err = c.env.Start(); err != nil {
		return c, fmt.Errorf("starting etcd and kube-apiserver (logs in %s): %w", c.LogDir, err)
	}
	// envtest's client is throttled for tests of a few objects; a cluster serving
	// benchmarks needs more.
	c.Config.QPS, c.Config.Burst = 500, 1000
	c.Webhook = &c.env.WebhookInstallOptions

	admin, err := c.env.ControlPlane.AddUser(envtest.User{Name: "dora-simcluster-admin", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return c, fmt.Errorf("creating the admin user: %w", err)
	}
	kubeconfig, err := admin.KubeConfig()
	if err != nil {
		return c, err
	}
	c.Kubeconfig = filepath.Join(c.workDir, "kubeconfig")
	if err := os.WriteFile(c.Kubeconfig, kubeconfig, 0o600); err != nil {
		return c, err
	}
	if opts.APIServerOnly {
		return c, nil
	}

	if err := c.startComponents(opts); err != nil {
		return c, err
	}
	if err := c.AddNodes(ctx, opts.Fleet); err != nil {
		return c, err
	}
	return c, nil
}

// startComponents starts kube-controller-manager, kube-scheduler and kwok.
func (c *Cluster) startComponents(opts Options) error {
	binDir, kwok, leaseSeconds := opts.BinDir, opts.Kwok, opts.NodeLeaseSeconds
	kwokArgs, err := kwok.args()
	if err != nil {
		return err
	}
	if opts.KwokPodParallelism > 0 {
		kwokConfig := filepath.Join(c.workDir, "kwok-options.yaml")
		if err := os.WriteFile(kwokConfig, []byte(fmt.Sprintf(`apiVersion: config.kwok.x-k8s.io/v1alpha1
kind: KwokConfiguration
options:
  podPlayStageParallelism: %d
  nodePlayStageParallelism: 8
  nodeLeaseParallelism: 8
`, opts.KwokPodParallelism)), 0o600); err != nil {
			return err
		}
		kwokArgs = append(kwokArgs, "--config="+kwokConfig)
	}
	if opts.QuietKwok {
		kwokArgs = append(kwokArgs, "--v=WARN")
	}
	kcmArgs := []string{}
	if leaseSeconds <= 0 {
		leaseSeconds = defaultNodeLeaseSeconds
	} else if leaseSeconds > defaultNodeLeaseSeconds {
		kcmArgs = append(kcmArgs, fmt.Sprintf("--node-monitor-grace-period=%ds", leaseSeconds*3/2))
	}
	controllers := strings.Join([]string{
		"garbage-collector-controller",
		"namespace-controller",
		"job-controller",
		"ttl-after-finished-controller",
		"persistentvolume-binder-controller",
		"persistentvolume-protection-controller",
		"persistentvolumeclaim-protection-controller",
		"node-lifecycle-controller",
		"taint-eviction-controller",
		"serviceaccount-controller",
	}, ",")
	// The scheduler's client would bind 50 pods a second (its default QPS): a bench of
	// 40,000 pods would wait a quarter of an hour for it alone.
	schedulerConfig := filepath.Join(c.workDir, "kube-scheduler.yaml")
	config := fmt.Sprintf(`apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
leaderElection:
  leaderElect: false
clientConnection:
  kubeconfig: %q
  qps: 500
  burst: 1000
`, c.Kubeconfig)
	if err := os.WriteFile(schedulerConfig, []byte(config), 0o600); err != nil {
		return err
	}
	components := []struct {
		name string
		args []string
	}{
		{"kube-controller-manager", append([]string{
			"--kubeconfig=" + c.Kubeconfig,
			"--leader-elect=false",
			"--secure-port=0",
			"--controllers=" + controllers,
			"--use-service-account-credentials=false",
			// Its default client limit (20 a second) takes the not-ready taint off a
			// thousand new nodes in minutes; kwokctl lifts it the same way.
			"--kube-api-qps=500",
			"--kube-api-burst=1000",
		}, kcmArgs...)},
		{"kube-scheduler", []string{
			"--config=" + schedulerConfig,
			"--secure-port=0",
		}},
		{"kwok", append([]string{
			"--kubeconfig=" + c.Kubeconfig,
			"--manage-all-nodes=true",
			"--config=" + filepath.Join(binDir, "kwok-stages.yaml"),
			fmt.Sprintf("--node-lease-duration-seconds=%d", leaseSeconds),
			"--cidr=10.64.0.0/10",
		}, kwokArgs...)},
	}
	for _, comp := range components {
		var env []string
		if comp.name == "kwok" {
			env = kwok.env()
		}
		p, err := startProcess(filepath.Join(binDir, comp.name), comp.args, env, c.logFile(comp.name), comp.name)
		if err != nil {
			return err
		}
		c.procs = append(c.procs, p)
	}
	return nil
}

// AddNodes creates fake nodes, several at a time, and waits until kwok reports every one of
// them Ready and untainted: a fleet of a thousand comes up in about the time the API server
// takes to store them. The wait grows with the fleet (2 minutes, plus 100 ms a node) and
// reads all nodes in one List a poll, not one Get a node.
func (c *Cluster) AddNodes(ctx context.Context, fleet Fleet) error {
	cs, err := kubernetes.NewForConfig(c.Config)
	if err != nil {
		return err
	}
	nodes := fleet.Nodes()
	const workers = 16
	errs := make(chan error, len(nodes))
	next := make(chan *corev1.Node)
	var wg sync.WaitGroup
	for range min(workers, len(nodes)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for node := range next {
				errs <- createNode(ctx, cs, node)
			}
		}()
	}
	for _, node := range nodes {
		next <- node
	}
	close(next)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			return err
		}
	}
	want := map[string]bool{}
	for _, node := range nodes {
		want[node.Name] = true
	}
	deadline := 2*time.Minute + time.Duration(len(nodes))*100*time.Millisecond
	waitCtx, cancel := context.WithTimeout(ctx, deadline)
	defer cancel()
	var waiting []string
	err = wait.PollUntilContextCancel(waitCtx, 500*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		list, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{ResourceVersion: "0"})
		if err != nil {
			return false, nil
		}
		ready := 0
		waiting = waiting[:0]
		for i := range list.Items {
			n := &list.Items[i]
			if !want[n.Name] {
				continue
			}
			if nodeReady(n) && len(n.Spec.Taints) == 0 {
				ready++
			} else if len(waiting) < 5 {
				waiting = append(waiting, n.Name)
			}
		}
		return ready == len(want), nil
	})
	if err != nil {
		return fmt.Errorf("nodes did not become Ready and untainted within %s (still waiting for %v...; is kwok running? see %s): %w", deadline, waiting, c.LogDir, err)
	}
	return nil
}

// createNode creates one fake node with its capacity (kept if it exists).
func createNode(ctx context.Context, cs kubernetes.Interface, node *corev1.Node) error {
	created, err := cs.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating node %s: %w", node.Name, err)
	}
	if err == nil && created.Status.Capacity == nil {
		created.Status = node.Status
		if _, err := cs.CoreV1().Nodes().UpdateStatus(ctx, created, metav1.UpdateOptions{}); err != nil {
			return fmt.Errorf("setting capacity of node %s: %w", node.Name, err)
		}
	}
	return nil
}

func nodeReady(n *corev1.Node) bool {
	for _, cond := range n.Status.Conditions {
		if cond.Type == corev1.NodeReady {
			return cond.Status == corev1.ConditionTrue
		}
	}
	return false
}

// Stop stops every component, the API server and etcd, and removes the work directory if
// Start created it. It is safe to call more than once.
func (c *Cluster) Stop() error {
	var errs []error
	for i := len(c.procs) - 1; i >= 0; i-- {
		errs = append(errs, c.procs[i].stop())
	}
	c.procs = nil
	if c.env != nil {
		errs = append(errs, c.env.Stop())
		c.env = nil
	}
	for _, f := range c.logs {
		_ = f.Close()
	}
	c.logs = nil
	if c.ownWorkDir && os.Getenv("DORA_KEEP_SIMCLUSTER") == "" {
		errs = append(errs, os.RemoveAll(c.workDir))
		c.ownWorkDir = false
	}
	return errors.Join(errs...)
}

// WorkDir is the directory holding the kubeconfig and logs.
func (c *Cluster) WorkDir() string { return c.workDir }

// RepoRoot finds the repository root: the nearest directory above the working directory
// with this module's go.mod.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && bytes.HasPrefix(data, []byte("module github.com/dora-hpc/dora-operator\n")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("cannot find the repository root (a go.mod for github.com/dora-hpc/dora-operator) above the working directory")
		}
		dir = parent
	}
}

func checkBinaries(opts Options) error {
	need := []string{"etcd", "kube-apiserver"}
	if !opts.APIServerOnly {
		need = append(need, "kube-controller-manager", "kube-scheduler", "kwok", "kwok-stages.yaml")
	}
	var missing []string
	for _, name := range need {
		if _, err := os.Stat(filepath.Join(opts.BinDir, name)); err != nil {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%s missing from %s: run `make tools` to build the control plane", strings.Join(missing, ", "), opts.BinDir)
	}
	return nil
}

// process is one component started by the cluster.
type process struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
}

// startProcess starts a component; env nil inherits this process's environment.
func startProcess(path string, args []string, env []string, out *os.File, name string) (*process, error) {
	cmd := exec.Command(path, args...)
	cmd.Env = env
	if out != nil { // a nil *os.File in an io.Writer would fail every write
		cmd.Stdout, cmd.Stderr = out, out
	}
	// Own process group, so stop reaches any children; killed if this process dies first.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	p := &process{name: name, cmd: cmd, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

func (p *process) stop() error {
	select {
	case <-p.done:
		return nil
	default:
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-p.done:
		return nil
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
		return fmt.Errorf("%s did not stop on SIGTERM and was killed", p.name)
	}
}

// logFile opens (appending) the log file of a component, closed by Stop; on error it
// returns nil, which exec and envtest treat as "discard".
func (c *Cluster) logFile(name string) *os.File {
	f, err := os.OpenFile(filepath.Join(c.LogDir, name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil
	}
	c.logs = append(c.logs, f)
	return f
}
