// Command dora-node-agent runs on every GPU node (a DaemonSet): it reads the GPUs through
// NVML and reports them in the node's Dora Node status and labels, renews a Lease as its
// heartbeat, maps GPUs to the pods holding them through the kubelet's PodResources API, and
// serves per-GPU Prometheus metrics. With --once it reads the hardware, prints it and exits,
// without an API server.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/yaml"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/agent"
	"github.com/dora-hpc/dora-operator/internal/agent/nvmlmock"
	"github.com/dora-hpc/dora-operator/internal/agent/podresources"
	"github.com/dora-hpc/dora-operator/internal/agent/report"
	"github.com/dora-hpc/dora-operator/internal/gpu"
	"github.com/dora-hpc/dora-operator/internal/memlimit"
)

func main() {
	var (
		cfg          agent.Config
		nvmlSource   string
		once         bool
		output       string
		proc         string
		podResources string
		metricsAddr  string
	)
	hostname, _ := os.Hostname()
	flag.StringVar(&cfg.NodeName, "node-name", envOr("NODE_NAME", hostname), "Node to report for (the DaemonSet passes spec.nodeName as $NODE_NAME).")
	flag.StringVar(&cfg.Namespace, "namespace", envOr("POD_NAMESPACE", "dora-system"), "Namespace of the agent's Lease.")
	flag.StringVar(&nvmlSource, "nvml", "real", "NVML to read: real, or a mock: mock:dgxa100, mock:dgxh100, mock:<count>x<product>[@<MiB>].")
	flag.BoolVar(&once, "once", false, "Read the hardware once, print it and exit; no API server is needed.")
	flag.StringVar(&output, "o", "yaml", "Output of --once: yaml or json.")
	flag.StringVar(&proc, "proc", "/proc", "The host's /proc, for the CPU model and memory.")
	flag.StringVar(&podResources, "pod-resources-socket", podresources.DefaultSocket, "The kubelet's PodResources socket; empty disables the GPU-to-pod mapping.")
	flag.StringVar(&metricsAddr, "metrics-bind-address", ":9400", "Address of the Prometheus metrics endpoint; 0 disables it.")
	flag.DurationVar(&cfg.PollInterval, "poll-interval", 10*time.Second, "How often the GPUs are read and the Lease renewed.")
	flag.DurationVar(&cfg.LeaseDuration, "lease-duration", 40*time.Second, "How long a Lease renewal is valid.")
	flag.DurationVar(&cfg.Thresholds.Period, "report-period", report.DefaultThresholds.Period, "Least time between status writes caused by utilisation, temperature, power or memory alone.")
	flag.BoolVar(&cfg.GFDLabels, "gfd-labels", true, "Set nvidia.com/gpu.product, .count and .memory on the node; turn off where NVIDIA's gpu-feature-discovery runs.")
	zapOpts := zap.Options{}
	zapOpts.BindFlags(flag.CommandLine)
	flag.Parse()
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&zapOpts)))
	log := ctrl.Log.WithName("agent")
	if limit, source, err := memlimit.Apply(); err != nil {
		log.Error(err, "Reading the container's memory limit; running without a soft memory limit", "file", source)
	} else if limit > 0 {
		log.Info("Soft memory limit", "bytes", limit, "from", source)
	}

	lib, err := openNVML(nvmlSource, cfg.NodeName)
	if err != nil {
		fmt.Fprintln(os.Stderr, "dora-node-agent:", err)
		os.Exit(2)
	}
	nv := agent.NewNVML(lib, func(msg string) {
		log.Info("NVML does not answer; the node is reported without GPUs and NVML is tried again at every poll", "reason", msg)
	})
	defer nv.Shutdown()

	var holders agent.Holders
	if podResources != "" {
		holders = func(ctx context.Context) (map[string]string, error) {
			found, err := podresources.GPUHolders(ctx, podResources, gpu.ResourceName)
			out := make(map[string]string, len(found))
			for uuid, h := range found {
				out[uuid] = h.String()
			}
			return out, err
		}
	}

	if once {
		a := agent.New(nil, clock.RealClock{}, cfg, nv, agent.ProcHost(proc), holders)
		if err := printOnce(a, cfg.NodeName, output); err != nil {
			fmt.Fprintln(os.Stderr, "dora-node-agent:", err)
			os.Exit(1)
		}
		return
	}

	if cfg.Thresholds.Period != report.DefaultThresholds.Period {
		period := cfg.Thresholds.Period
		cfg.Thresholds = report.DefaultThresholds
		cfg.Thresholds.Period = period
	}
	restCfg, err := ctrl.GetConfig()
	if err != nil {
		log.Error(err, "Cannot reach the API server")
		os.Exit(1)
	}
	c, err := client.New(restCfg, client.Options{Scheme: scheme()})
	if err != nil {
		log.Error(err, "Cannot build a client")
		os.Exit(1)
	}
	a := agent.New(c, clock.RealClock{}, cfg, nv, agent.ProcHost(proc), holders)
	ctx := ctrl.SetupSignalHandler()
	if metricsAddr != "0" {
		go serveMetrics(ctx, metricsAddr, a)
	}
	log.Info("Reporting the node", "node", cfg.NodeName, "nvml", nvmlSource)
	if err := a.Run(ctx); err != nil {
		log.Error(err, "The agent stopped")
		os.Exit(1)
	}
}

func openNVML(source, node string) (nvml.Interface, error) {
	if source == "real" {
		return nvml.New(), nil
	}
	return nvmlmock.Parse(source, node)
}

// printOnce prints the node's inventory as a Dora Node, as the agent would report it.
func printOnce(a *agent.Agent, node, output string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	obj := doradev1.Node{
		TypeMeta:   metav1.TypeMeta{APIVersion: doradev1.GroupVersion.String(), Kind: "Node"},
		ObjectMeta: metav1.ObjectMeta{Name: node},
		Status:     a.Read(ctx),
	}
	var out []byte
	var err error
	switch output {
	case "yaml":
		out, err = yaml.Marshal(obj)
	case "json":
		out, err = json.MarshalIndent(obj, "", "  ")
		out = append(out, '\n')
	default:
		return fmt.Errorf("-o %q: want yaml or json", output)
	}
	if err != nil {
		return err
	}
	_, err = os.Stdout.Write(out)
	return err
}

func serveMetrics(ctx context.Context, addr string, a *agent.Agent) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(agent.NewCollector(a))
	srv := &http.Server{Addr: addr, Handler: promhttp.HandlerFor(reg, promhttp.HandlerOpts{}), ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		ctrl.Log.Error(err, "Serving metrics", "address", addr)
	}
}

// scheme knows the kinds the agent touches: Nodes, Leases and Dora Nodes.
func scheme() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(s))
	utilruntime.Must(doradev1.AddToScheme(s))
	return s
}

func envOr(key, fallback string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return fallback
}
