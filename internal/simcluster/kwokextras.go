package simcluster

import (
	"maps"
	"os"
	"strconv"
	"strings"
)

// KwokServer makes kwok serve what a kubelet serves for pods/log and pods/exec, so that
// `kubectl logs` and `kubectl exec` (and the kubectl dora plugin) work on the fake nodes:
// kwok answers logs from local files and runs exec commands on this machine, as its
// ClusterLogs and ClusterExec objects (in Configs) say.
//
// Every fake node reports 127.0.0.1 and Port as its kubelet's address, and the API server is
// told to reach nodes by their InternalIP (the node names do not resolve). The API server
// does not check a kubelet's serving certificate unless given a CA for it, so kwok's
// self-signed one is accepted.
type KwokServer struct {
	// Port is where kwok serves. 0 picks a free port below the ephemeral range; it is
	// written back here when the cluster starts.
	Port int
	// Configs are kwok configuration files added to the stages (each passed as --config),
	// holding kwok.x-k8s.io/v1alpha1 ClusterLogs, ClusterExec, Logs or Exec objects.
	Configs []string
	// Path, when set, is the PATH kwok runs with, so the commands an exec names are looked
	// up there only: a Path without bash makes every fake container one without bash.
	Path string
}

// apiServerFlags is flags with what the API server needs to reach kwok's server: a copy,
// flags itself is not changed. A nil KwokServer returns flags as they are.
func (k *KwokServer) apiServerFlags(flags map[string]string) map[string]string {
	if k == nil {
		return flags
	}
	out := maps.Clone(flags)
	if out == nil {
		out = map[string]string{}
	}
	out["kubelet-preferred-address-types"] = "InternalIP"
	return out
}

// args are kwok's command-line flags for the server, choosing the port if it is not set.
func (k *KwokServer) args() ([]string, error) {
	if k == nil {
		return nil, nil
	}
	if k.Port == 0 {
		port, err := webhookPort()
		if err != nil {
			return nil, err
		}
		k.Port = port
	}
	args := []string{"--node-ip=127.0.0.1", "--node-port=" + strconv.Itoa(k.Port)}
	for _, c := range k.Configs {
		args = append(args, "--config="+c)
	}
	return args, nil
}

// env is kwok's environment: this process's, with PATH replaced when Path is set; nil
// (inherit) otherwise.
func (k *KwokServer) env() []string {
	if k == nil || k.Path == "" {
		return nil
	}
	env := []string{"PATH=" + k.Path}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PATH=") {
			env = append(env, kv)
		}
	}
	return env
}
