// Command playground runs a simulated GPU cluster on this machine with the Dora manager in
// it and the seed document's examples applied, until Ctrl-C. `make run` starts it.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/util/wait"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/simcluster"
	"github.com/dora-hpc/dora-operator/test/harness"
)

// agentNamespace holds the agents' Leases, as the DaemonSet's namespace does in a cluster.
const agentNamespace = "dora-system"

// seedUser is the seed document's user, whose workloads the samples are.
var seedUser = "amedeo.setti"

func main() {
	var (
		binDir        string
		workDir       string
		samplesDir    string
		zone          string
		nodePortRange string
	)
	flag.StringVar(&binDir, "bin-dir", "bin", "Directory with the control-plane binaries (make tools builds them).")
	flag.StringVar(&workDir, "work-dir", ".playground", "Directory for the kubeconfig and the component logs.")
	flag.StringVar(&samplesDir, "samples", "config/samples", "Directory of objects to apply once the cluster is up; empty applies none.")
	flag.StringVar(&zone, "zone", "dc-rov-01", "Dora zone the manager runs as.")
	flag.StringVar(&nodePortRange, "node-port-range", "20000-32767", "NodePort range of the API server; Dora's examples use 25000.")
	flag.StringVar(&seedUser, "samples-as", seedUser, "Kubernetes user the sample Workloads are applied as (impersonated), so that they are owned and charged.")
	flag.Parse()

	if err := run(binDir, workDir, samplesDir, zone, nodePortRange); err != nil {
		fmt.Fprintln(os.Stderr, "playground:", err)
		os.Exit(1)
	}
}

func run(binDir, workDir, samplesDir, zone, nodePortRange string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	workDir, err := filepath.Abs(workDir)
	if err != nil {
		return err
	}
	// Each run is a fresh cluster; old logs would only confuse.
	if err := os.RemoveAll(filepath.Join(workDir, "logs")); err != nil {
		return err
	}
	if err := os.MkdirAll(workDir, 0o755); err != nil {
		return err
	}
	fleet := simcluster.DefaultFleet()
	fmt.Printf("Starting the simulated GPU cluster (%d fake nodes) and the Dora manager for zone %s...\n", len(fleet.Nodes()), zone)
	env, err := harness.Start(simcluster.Options{
		BinDir:        binDir,
		WorkDir:       workDir,
		Fleet:         fleet,
		NodePortRange: nodePortRange,
	}, zone)
	if err != nil {
		return err
	}
	defer func() {
		fmt.Println("\nStopping the manager and the cluster...")
		if err := env.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "playground: stopping:", err)
		}
		fmt.Println("Stopped; nothing is left running.")
	}()

	if err := simcluster.StartAgents(ctx, env.Client, fleet, agentNamespace); err != nil {
		return err
	}

	if samplesDir != "" {
		// The seed user's workloads are applied as that user, so that they are theirs and
		// charged to their credits, as a researcher's kubectl apply would make them.
		user, err := env.As(seedUser)
		if err != nil {
			return err
		}
		applied, err := simcluster.ApplyDirAs(ctx, env.Client, user, samplesDir)
		if err != nil {
			return fmt.Errorf("applying %s: %w", samplesDir, err)
		}
		fmt.Printf("Applied %d sample objects from %s (the workloads as %s).\n", len(applied), samplesDir, seedUser)
		if err := applyClone(ctx, env, filepath.Join(samplesDir, "clone")); err != nil {
			return err
		}
	}

	kc := env.Cluster.Kubeconfig
	fmt.Printf(`
The playground is up. Its kubeconfig is:

    %[1]s

Try:
    export KUBECONFIG=%[1]s
    kubectl get nodes -L nvidia.com/gpu.product,nvidia.com/gpu.count
    kubectl get nodes.dora.dev -o wide
    kubectl get dora -A
    kubectl get workloads -A
    kubectl get resourcecredits,usercredits
    kubectl get usercredit amedeo.setti -o yaml
    kubectl --as amedeo.setti get workloads -n amedeo-setti
    kubectl --as amedeo.setti get workloads -n default
    kubectl get workspaces,namespaces
    kubectl get storages,volumes -A -o wide
    kubectl get pv,pvc -A
    kubectl get workspace amedeo.setti.clone -o yaml
    kubectl explain workload.spec.selectors
    kubectl apply -f config/samples/

Component and manager logs are in %[2]s.
Press Ctrl-C to stop everything.
`, kc, env.Cluster.LogDir)
	<-ctx.Done()
	return nil
}

// applyClone applies the clone sample once the volumes it copies are bound, so that the
// clone finds them (a clone copies what its source holds when it starts).
func applyClone(ctx context.Context, env *harness.Env, dir string) error {
	if _, err := os.Stat(dir); err != nil {
		return nil
	}
	fmt.Println("Waiting for the sample volumes to be bound before cloning amedeo.setti...")
	err := wait.PollUntilContextTimeout(ctx, time.Second, 3*time.Minute, true, func(ctx context.Context) (bool, error) {
		vols := &doradev1.VolumeList{}
		if err := env.Client.List(ctx, vols); err != nil {
			return false, nil
		}
		for _, v := range vols.Items {
			if !meta.IsStatusConditionTrue(v.Status.Conditions, doradev1.ConditionReady) {
				return false, nil
			}
		}
		return len(vols.Items) > 0, nil
	})
	if err != nil {
		return fmt.Errorf("the sample volumes were not bound in 3 minutes (kubectl get volumes -A shows why): %w", err)
	}
	applied, err := simcluster.ApplyDir(ctx, env.Client, dir)
	if err != nil {
		return fmt.Errorf("applying %s: %w", dir, err)
	}
	fmt.Printf("Applied %d objects from %s.\n", len(applied), dir)
	return nil
}
