// Package plugin runs the real kubectl (/usr/bin/kubectl) with the kubectl-dora plugin on
// its PATH against two simulated GPU clusters, the zones dc-rov-01 and dc-test-01, each with
// its own Dora manager: what a user types is what is tested.
package plugin

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/dora-hpc/dora-operator/internal/simcluster"
	"github.com/dora-hpc/dora-operator/test/harness"
)

// The two zones.
const (
	zoneRov  = "dc-rov-01"
	zoneTest = "dc-test-01"
)

// kubectlPath is the kubectl the tests run, as users have it.
const kubectlPath = "/usr/bin/kubectl"

var (
	// rov and test are the two zones' clusters, each with its manager.
	rov, test *harness.Env
	// zones are the clusters by zone name.
	zones map[string]*harness.Env
	// work holds the kubeconfig, the plugin's config, the built plugin and kwok's files.
	work workDir
)

// workDir is where the tests keep what the plugin and kubectl read.
type workDir struct {
	root, bin, home, kubeconfig, config string
	// logs are the files kwok serves as every container's current and previous log.
	currentLog, previousLog string
}

// rovFleet is the playground's mixed fleet: the seed's GPU models and more.
var rovFleet = simcluster.DefaultFleet()

// testFleet is a small fleet: one T4 node and one CPU node.
var testFleet = simcluster.Fleet{
	{Name: "t4", Count: 1, GPUProduct: "Tesla T4", GPUs: 4, GPUMemoryMiB: 15360, CPUs: 32, MemoryGiB: 128, CPUProduct: "Intel(R) Xeon(R) Silver 4214 CPU @ 2.20GHz"},
	{Name: "cpu", Count: 1, CPUs: 16, MemoryGiB: 64, CPUProduct: "AMD EPYC 7302 16-Core Processor"},
}

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	root, err := os.MkdirTemp("", "dora-plugin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if os.Getenv("DORA_KEEP_SIMCLUSTER") == "" {
		defer func() { _ = os.RemoveAll(root) }()
	}
	work = workDir{
		root: root, bin: filepath.Join(root, "bin"), home: filepath.Join(root, "home"),
		kubeconfig: filepath.Join(root, "kubeconfig"), config: filepath.Join(root, "home", ".config", "dora", "config.yaml"),
		currentLog: filepath.Join(root, "kwok", "current.log"), previousLog: filepath.Join(root, "kwok", "previous.log"),
	}
	built := make(chan error, 1)
	go func() { built <- buildPlugin(work.bin) }()

	ctx, stopAgents := context.WithCancel(context.Background())
	defer stopAgents()
	kwokRov, kwokTest, err := kwokServers(work)
	if err != nil {
		fmt.Fprintln(os.Stderr, "preparing kwok:", err)
		return 1
	}
	rov, err = harness.Start(simcluster.Options{Fleet: rovFleet, NodePortRange: "20000-32767", Kwok: kwokRov}, zoneRov)
	if err != nil {
		fmt.Fprintln(os.Stderr, "starting zone", zoneRov+":", err)
		return 1
	}
	defer stop(rov)
	test, err = harness.Start(simcluster.Options{Fleet: testFleet, NodePortRange: "20000-32767", Kwok: kwokTest}, zoneTest)
	if err != nil {
		fmt.Fprintln(os.Stderr, "starting zone", zoneTest+":", err)
		return 1
	}
	defer stop(test)
	zones = map[string]*harness.Env{zoneRov: rov, zoneTest: test}
	for name, env := range zones {
		fleet := rovFleet
		if name == zoneTest {
			fleet = testFleet
		}
		if err := simcluster.StartAgents(ctx, env.Client, fleet, "dora-system"); err != nil {
			fmt.Fprintln(os.Stderr, "starting the node agents of", name+":", err)
			return 1
		}
	}
	if err := writeKubeconfig(work.kubeconfig, map[string]string{zoneRov: rov.Cluster.Kubeconfig, zoneTest: test.Cluster.Kubeconfig}, zoneRov); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := writePluginConfig(work.config); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := <-built; err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	code := m.Run()
	if code != 0 {
		fmt.Fprintf(os.Stderr, "component and manager logs: %s and %s (kept only with DORA_KEEP_SIMCLUSTER=1)\n", rov.Cluster.LogDir, test.Cluster.LogDir)
	}
	return code
}

func stop(env *harness.Env) {
	if err := env.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "stopping:", err)
	}
}

// buildPlugin builds kubectl-dora and kubectl_complete-dora into dir.
func buildPlugin(dir string) error {
	root, err := simcluster.RepoRoot()
	if err != nil {
		return err
	}
	cmd := exec.Command("go", "build", "-o", dir+string(filepath.Separator), "./cmd/kubectl-dora", "./cmd/kubectl_complete-dora")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("building the plugin: %w\n%s", err, out)
	}
	return nil
}

// writeKubeconfig writes one kubeconfig with a context per zone, named like the zone, from
// each cluster's administrator kubeconfig.
func writeKubeconfig(path string, clusters map[string]string, current string) error {
	out := clientcmdapi.NewConfig()
	for zone, file := range clusters {
		cfg, err := clientcmd.LoadFromFile(file)
		if err != nil {
			return fmt.Errorf("reading the kubeconfig of %s: %w", zone, err)
		}
		kctx, ok := cfg.Contexts[cfg.CurrentContext]
		if !ok {
			return fmt.Errorf("the kubeconfig of %s has no current context", zone)
		}
		out.Clusters[zone] = cfg.Clusters[kctx.Cluster]
		out.AuthInfos[zone+"-admin"] = cfg.AuthInfos[kctx.AuthInfo]
		out.Contexts[zone] = &clientcmdapi.Context{Cluster: zone, AuthInfo: zone + "-admin"}
	}
	out.CurrentContext = current
	return clientcmd.WriteToFile(*out, path)
}

// writePluginConfig maps both zones to their contexts.
func writePluginConfig(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	config := fmt.Sprintf("zones:\n  %s: {context: %s}\n  %s: {context: %s}\n", zoneRov, zoneRov, zoneTest, zoneTest)
	return os.WriteFile(path, []byte(config), 0o600)
}

// result is what a kubectl run printed and how it ended.
type result struct {
	stdout, stderr string
	code           int
}

func (r result) String() string {
	return fmt.Sprintf("exit code %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
}

// runOptions change how kubectl is run.
type runOptions struct {
	stdin   string
	env     []string
	timeout time.Duration
}

// kubectlEnv is the environment of every kubectl run: the plugin first on PATH, the test
// kubeconfig, the plugin's config (through HOME), and nothing of the machine's own.
func kubectlEnv(extra []string) []string {
	env := []string{
		"PATH=" + work.bin + string(os.PathListSeparator) + os.Getenv("PATH"),
		"HOME=" + work.home,
		"KUBECONFIG=" + work.kubeconfig,
		"LANG=C.UTF-8",
		"TZ=UTC",
	}
	return append(env, extra...)
}

// runKubectl runs kubectl with args.
func runKubectl(t *testing.T, opts runOptions, args ...string) result {
	t.Helper()
	if opts.timeout == 0 {
		opts.timeout = 90 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), opts.timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, kubectlPath, args...)
	cmd.Env = kubectlEnv(opts.env)
	cmd.Stdin = strings.NewReader(opts.stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		r.code = exit.ExitCode()
	default:
		t.Fatalf("running kubectl %s: %v", strings.Join(args, " "), err)
	}
	if ctx.Err() != nil {
		t.Fatalf("kubectl %s did not finish within %s:\n%s", strings.Join(args, " "), opts.timeout, r)
	}
	return r
}

// dora runs kubectl dora args.
func dora(t *testing.T, args ...string) result {
	t.Helper()
	return runKubectl(t, runOptions{}, append([]string{"dora"}, args...)...)
}

// doraOK runs kubectl dora args and fails the test unless it succeeds; it returns stdout.
func doraOK(t *testing.T, args ...string) string {
	t.Helper()
	r := dora(t, args...)
	if r.code != 0 {
		t.Fatalf("kubectl dora %s failed:\n%s", strings.Join(args, " "), r)
	}
	return r.stdout
}

// doraAs runs kubectl dora as the Kubernetes user (impersonated, as the user's own
// kubeconfig would be).
func doraAs(t *testing.T, user string, args ...string) result {
	t.Helper()
	return dora(t, append([]string{"--as", user}, args...)...)
}

// doraIn runs kubectl dora args with stdin.
func doraIn(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	return runKubectl(t, runOptions{stdin: stdin}, append([]string{"dora"}, args...)...)
}

// eventually calls check until it says done, every half second for up to timeout; then it
// fails the test with what check said last.
func eventually(t *testing.T, timeout time.Duration, what string, check func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		done, last := check()
		if done {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s; last: %s", what, timeout, last)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// eventuallyDora runs kubectl dora args until it succeeds (a user's grants are bound by the
// manager a moment after the User is applied), and returns its stdout.
func eventuallyDora(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	var r result
	eventually(t, time.Minute, "kubectl dora "+strings.Join(args, " "), func() (bool, string) {
		r = doraIn(t, stdin, args...)
		return r.code == 0, r.String()
	})
	return r.stdout
}

// objectMeta names an object.
func objectMeta(namespace, name string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Namespace: namespace, Name: name}
}

// admin is an administrator's client of a zone.
func admin(zone string) client.Client { return zones[zone].Client }

// testdata is the path of a file in testdata.
func testdata(name string) string { return filepath.Join("testdata", name) }

// mustContain fails unless text contains every one of wants.
func mustContain(t *testing.T, text string, wants ...string) {
	t.Helper()
	for _, want := range wants {
		if !strings.Contains(text, want) {
			t.Errorf("the output does not say %q:\n%s", want, text)
		}
	}
}

// lines are the non-empty lines of text.
func lines(text string) []string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.TrimSpace(l) != "" {
			out = append(out, l)
		}
	}
	return out
}

// fields are the whitespace-separated columns of each line of a table.
func fields(text string) [][]string {
	var out [][]string
	for _, l := range lines(text) {
		out = append(out, strings.Fields(l))
	}
	return out
}
