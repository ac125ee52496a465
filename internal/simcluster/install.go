package simcluster

import (
	"context"
	"errors"
	"fmt"
	"net"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/agent"
	"github.com/dora-hpc/dora-operator/internal/agent/nvmlmock"
)

// What this file adds serves tests that install the Helm chart on the simulated cluster and
// run its workloads under the chart's own identities: the manager as a process reached
// through the webhook Service, the node agents as the chart's agent ServiceAccount.

// NodeNameExtra is the user-info extra that the API server gives a service account token
// bound to a pod: the node the pod runs on. The chart's admission policy keeps each node agent
// to the node in it.
const NodeNameExtra = "authentication.kubernetes.io/node-name"

// ServiceAccountUser is who the API server authenticates a pod's service-account token as:
// system:serviceaccount:<namespace>:<name>, in the service-account groups, authenticated.
func ServiceAccountUser(namespace, name string) rest.ImpersonationConfig {
	return rest.ImpersonationConfig{
		UserName: fmt.Sprintf("system:serviceaccount:%s:%s", namespace, name),
		Groups:   []string{"system:serviceaccounts", "system:serviceaccounts:" + namespace, "system:authenticated"},
	}
}

// ImpersonatingKubeconfig writes to path a copy of the administrator's kubeconfig whose user
// impersonates as: a process given it acts with exactly as's permissions, as a pod running
// under that identity would.
func ImpersonatingKubeconfig(adminKubeconfig, path string, as rest.ImpersonationConfig) error {
	cfg, err := clientcmd.LoadFromFile(adminKubeconfig)
	if err != nil {
		return fmt.Errorf("reading the admin kubeconfig: %w", err)
	}
	kctx, ok := cfg.Contexts[cfg.CurrentContext]
	if !ok || cfg.AuthInfos[kctx.AuthInfo] == nil {
		return fmt.Errorf("the kubeconfig %s has no user for its current context %q", adminKubeconfig, cfg.CurrentContext)
	}
	auth := cfg.AuthInfos[kctx.AuthInfo]
	auth.Impersonate = as.UserName
	auth.ImpersonateUID = as.UID
	auth.ImpersonateGroups = as.Groups
	auth.ImpersonateUserExtra = as.Extra
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		return fmt.Errorf("writing the impersonating kubeconfig: %w", err)
	}
	return nil
}

// HostIPv4 is this machine's first non-loopback IPv4 address on an interface that is up:
// where a process outside the cluster can be reached by the API server through an
// EndpointSlice, which refuses loopback addresses.
func HostIPv4() (net.IP, error) {
	ifaces, err := net.Interfaces()
	if err != nil {
		return nil, fmt.Errorf("listing the network interfaces: %w", err)
	}
	for _, iface := range ifaces {
		if iface.Flags&net.FlagUp == 0 || iface.Flags&net.FlagLoopback != 0 {
			continue
		}
		addrs, err := iface.Addrs()
		if err != nil {
			continue
		}
		for _, addr := range addrs {
			ipnet, ok := addr.(*net.IPNet)
			if !ok {
				continue
			}
			if ip := ipnet.IP.To4(); ip != nil && !ip.IsLoopback() && !ip.IsLinkLocalUnicast() {
				return ip, nil
			}
		}
	}
	return nil, errors.New("this machine has no non-loopback IPv4 address on an interface that is up: " +
		"an EndpointSlice cannot point the API server at a process here (loopback addresses are refused)")
}

// StartAgentsAs runs one node agent per fake node of the fleet, in this process, until ctx
// ends, as StartAgents does, but each with its own client, from clientFor: an agent pod's
// token is bound to its node, so each agent is a different user (see NodeNameExtra).
// namespace (the agents' Leases) must exist. An agent's errors go to the logger in ctx.
func StartAgentsAs(ctx context.Context, clientFor func(node string) (client.Client, error), fleet Fleet, namespace string) error {
	for _, pool := range fleet {
		cpu := doradev1.CPUInfo{Product: pool.CPUProduct, Cores: int32(pool.CPUs)}
		for _, name := range pool.NodeNames() {
			c, err := clientFor(name)
			if err != nil {
				return fmt.Errorf("the client of the agent of %s: %w", name, err)
			}
			mock, err := nvmlmock.Fleet(pool.GPUProduct, pool.GPUs, uint64(pool.GPUMemoryMiB), name)
			if err != nil {
				return fmt.Errorf("mock NVML for %s: %w", name, err)
			}
			cfg := agent.Config{NodeName: name, Namespace: namespace, GFDLabels: true}
			a := agent.New(c, clock.RealClock{}, cfg, agent.NewNVML(mock, nil), agent.FixedHost(cpu, int64(pool.MemoryGiB)*1024), nil)
			go func() { _ = a.Run(ctx) }()
		}
	}
	return nil
}
