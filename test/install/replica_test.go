package install

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// sliceManager is the value of endpointslice.kubernetes.io/managed-by on the test's
// EndpointSlices: the EndpointSlice controller (were it running) leaves slices of another
// manager alone.
const sliceManager = "install-test.dora.dev"

// A replica is one pod of the chart's manager Deployment, played on this machine: the
// manager binary run as a process with the Deployment container's arguments and
// environment, as the chart's ServiceAccount. The test does the kubelet's and the
// EndpointSlice controller's parts: it keeps the webhook Secret "mounted" in the replica's
// certificate directory (mountSecret), and publishes the replica's address in an
// EndpointSlice of the webhook Service, ready once its readiness probe passes.
type replica struct {
	name string
	// webhookAddr is where the webhook server listens: this machine's IP (an EndpointSlice
	// may not hold a loopback address) and a port of its own.
	webhookAddr string
	// probeAddr serves /healthz and /readyz.
	probeAddr string
	certDir   string
	logPath   string
	// slice is the replica's EndpointSlice of the webhook Service.
	slice *discoveryv1.EndpointSlice

	cmd       *exec.Cmd
	exited    chan struct{}
	stopMount context.CancelFunc
}

// replicaSpec is what every replica shares: the Deployment's container, and the
// objects it runs against.
type replicaSpec struct {
	bin string
	// args and env are the Deployment container's.
	args []string
	env  []string
	// kubeconfig impersonates the chart's manager ServiceAccount.
	kubeconfig string
	// service is the webhook Service and secret the webhook certificate's Secret.
	service *corev1.Service
	secret  client.ObjectKey
	dir     string
}

// startReplica starts replica name: its EndpointSlice (not ready), the Secret's mount, and
// the process, with the Deployment's arguments but for where it listens, where the Secret
// is mounted and how it reaches the API server.
func startReplica(ctx context.Context, spec replicaSpec, name string) (*replica, error) {
	webhookPort, err := freePort(hostIP.String())
	if err != nil {
		return nil, err
	}
	probePort, err := freePort("127.0.0.1")
	if err != nil {
		return nil, err
	}
	metricsPort, err := freePort("127.0.0.1")
	if err != nil {
		return nil, err
	}
	r := &replica{
		name:        name,
		webhookAddr: net.JoinHostPort(hostIP.String(), strconv.Itoa(webhookPort)),
		probeAddr:   net.JoinHostPort("127.0.0.1", strconv.Itoa(probePort)),
		certDir:     filepath.Join(spec.dir, name, "serving-certs"),
		logPath:     filepath.Join(cluster.LogDir, name+".log"),
	}
	if err := os.MkdirAll(r.certDir, 0o700); err != nil {
		return nil, err
	}
	if err := r.publish(ctx, spec.service, int32(webhookPort)); err != nil {
		return nil, err
	}
	mountCtx, stopMount := context.WithCancel(context.Background())
	r.stopMount = stopMount
	go mountSecret(mountCtx, spec.secret, r.certDir)

	args := withFlags(spec.args, map[string]string{
		"kubeconfig":                spec.kubeconfig,
		"webhook-host":              hostIP.String(),
		"webhook-port":              strconv.Itoa(webhookPort),
		"webhook-cert-dir":          r.certDir,
		"health-probe-bind-address": r.probeAddr,
		"metrics-bind-address":      net.JoinHostPort("127.0.0.1", strconv.Itoa(metricsPort)),
	})
	log, err := os.Create(r.logPath)
	if err != nil {
		return nil, errors.Join(err, r.stop(ctx))
	}
	cmd := exec.Command(spec.bin, args...)
	cmd.Env = append(os.Environ(), spec.env...)
	cmd.Stdout, cmd.Stderr = log, log
	// Killed with the test process, whatever way it ends.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		_ = log.Close()
		return nil, errors.Join(fmt.Errorf("starting manager replica %s: %w", name, err), r.stop(ctx))
	}
	r.cmd, r.exited = cmd, make(chan struct{})
	go func() {
		_ = cmd.Wait()
		_ = log.Close()
		close(r.exited)
	}()
	return r, nil
}

// publish creates the replica's EndpointSlice: its address and port for the Service's
// webhook port (the API server's resolver matches the port by name), not ready yet.
func (r *replica) publish(ctx context.Context, svc *corev1.Service, port int32) error {
	if len(svc.Spec.Ports) != 1 {
		return fmt.Errorf("the webhook Service %s has %d ports, expected one", svc.Name, len(svc.Spec.Ports))
	}
	r.slice = &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: svc.Namespace, Name: svc.Name + "-" + r.name,
			Labels: map[string]string{discoveryv1.LabelServiceName: svc.Name, discoveryv1.LabelManagedBy: sliceManager},
		},
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints: []discoveryv1.Endpoint{{
			Addresses:  []string{hostIP.String()},
			Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(false), Serving: ptr.To(false)},
		}},
		Ports: []discoveryv1.EndpointPort{{Name: ptr.To(svc.Spec.Ports[0].Name), Port: ptr.To(port), Protocol: ptr.To(corev1.ProtocolTCP)}},
	}
	if err := admin.Create(ctx, r.slice); err != nil {
		return fmt.Errorf("creating the EndpointSlice of replica %s: %w", r.name, err)
	}
	return nil
}

// setReady sets the replica's endpoint ready or not, as the EndpointSlice controller does
// from the pod's readiness (and when the pod is gone).
func (r *replica) setReady(ctx context.Context, ready bool) error {
	slice := &discoveryv1.EndpointSlice{}
	if err := admin.Get(ctx, client.ObjectKeyFromObject(r.slice), slice); err != nil {
		return err
	}
	cond := &slice.Endpoints[0].Conditions
	cond.Ready, cond.Serving = ptr.To(ready), ptr.To(ready)
	if err := admin.Update(ctx, slice); err != nil {
		return fmt.Errorf("marking the endpoint of replica %s ready=%t: %w", r.name, ready, err)
	}
	r.slice = slice
	return nil
}

// readyz is the replica's readiness probe, as the kubelet runs it: nil once it passes.
func (r *replica) readyz(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+r.probeAddr+"/readyz", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("/readyz answered %s", resp.Status)
	}
	return nil
}

func (r *replica) running() bool {
	if r.exited == nil {
		return false
	}
	select {
	case <-r.exited:
		return false
	default:
		return true
	}
}

// log is what the replica wrote so far.
func (r *replica) log() string {
	data, _ := os.ReadFile(r.logPath)
	return string(data)
}

// isLeader says whether the replica has won the leader election (controller-runtime logs it).
func (r *replica) isLeader() bool {
	return strings.Contains(r.log(), "Successfully acquired lease")
}

// kill ends the replica at once (SIGKILL: no lease released, nothing finished), as a node
// failure or an OOM kill would.
func (r *replica) kill() error {
	if !r.running() {
		return nil
	}
	if err := r.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("killing replica %s: %w", r.name, err)
	}
	<-r.exited
	return nil
}

// stop ends the replica as a pod deletion would: SIGTERM, SIGKILL after the chart's
// termination grace period; then its endpoint is removed and its mount undone.
func (r *replica) stop(ctx context.Context) error {
	var errs []error
	if r.running() {
		_ = r.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-r.exited:
		case <-time.After(10 * time.Second):
			errs = append(errs, fmt.Errorf("replica %s did not stop on SIGTERM", r.name), r.kill())
		}
	}
	if r.stopMount != nil {
		r.stopMount()
	}
	if r.slice != nil {
		if err := admin.Delete(ctx, r.slice); err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// mountSecret plays the kubelet's Secret volume: every key of the Secret is a file in dir,
// kept equal to the Secret (each file replaced at once, by a rename) until ctx ends.
func mountSecret(ctx context.Context, key client.ObjectKey, dir string) {
	_ = wait.PollUntilContextCancel(ctx, 200*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		secret := &corev1.Secret{}
		if err := admin.Get(ctx, key, secret); err != nil {
			return false, nil
		}
		for _, name := range slices.Sorted(maps.Keys(secret.Data)) {
			path := filepath.Join(dir, name)
			if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, secret.Data[name]) {
				continue
			}
			tmp := filepath.Join(dir, "."+name+".tmp")
			if os.WriteFile(tmp, secret.Data[name], 0o600) == nil {
				_ = os.Rename(tmp, path)
			}
		}
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if _, ok := secret.Data[e.Name()]; !ok && !strings.HasPrefix(e.Name(), ".") {
				_ = os.Remove(filepath.Join(dir, e.Name()))
			}
		}
		return false, nil
	})
}

// withFlags returns args with each --name=value of set in place of the one args has, and
// those args lacks appended (in name order).
func withFlags(args []string, set map[string]string) []string {
	out := make([]string, 0, len(args)+len(set))
	done := map[string]bool{}
	for _, arg := range args {
		name, _, _ := strings.Cut(strings.TrimLeft(arg, "-"), "=")
		if v, ok := set[name]; ok {
			out = append(out, "--"+name+"="+v)
			done[name] = true
			continue
		}
		out = append(out, arg)
	}
	for _, name := range slices.Sorted(maps.Keys(set)) {
		if !done[name] {
			out = append(out, "--"+name+"="+set[name])
		}
	}
	return out
}

// flagValue is the value of --name in args.
func flagValue(args []string, name string) (string, bool) {
	for _, arg := range args {
		n, v, ok := strings.Cut(strings.TrimLeft(arg, "-"), "=")
		if n == name {
			if !ok {
				v = "true"
			}
			return v, true
		}
	}
	return "", false
}

// freePort is a TCP port nothing listens on now at host.
func freePort(host string) (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return 0, err
	}
	defer func() { _ = l.Close() }()
	return l.Addr().(*net.TCPAddr).Port, nil
}
