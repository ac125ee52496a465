package plugin

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/dora-hpc/dora-operator/internal/simcluster"
)

// kwok answers the API server's pods/log and pods/exec for the fake nodes: every
// container's log is the file currentLog (previousLog for --previous), in the CRI log
// format a kubelet reads, and every exec runs the command on this machine in a work
// directory, with DORA_FAKE_CONTAINER=1 in its environment.
const kwokConfig = `apiVersion: kwok.x-k8s.io/v1alpha1
kind: ClusterLogs
metadata:
  name: dora-plugin-logs
spec:
  logs:
  - logsFile: %[1]q
    previousLogsFile: %[2]q
    follow: true
---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: ClusterExec
metadata:
  name: dora-plugin-exec
spec:
  execs:
  - local:
      workDir: %[3]q
      envs:
      - name: DORA_FAKE_CONTAINER
        value: "1"
`

// The lines of the fake containers' logs.
const (
	currentLogLine  = "epoch 3: loss 0.125"
	previousLogLine = "epoch 2: out of memory"
)

// kwokServers prepares kwok's logs and exec for both zones. In zone dc-test-01 kwok runs
// with a PATH that has sh and no bash, so its containers are ones without bash.
func kwokServers(w workDir) (rovKwok, testKwok *simcluster.KwokServer, err error) {
	dir := filepath.Dir(w.currentLog)
	execDir := filepath.Join(dir, "exec")
	if err := os.MkdirAll(execDir, 0o755); err != nil {
		return nil, nil, err
	}
	logLine := func(text string) string { return "2026-01-05T10:00:00.000000000Z stdout F " + text + "\n" }
	if err := os.WriteFile(w.currentLog, []byte(logLine(currentLogLine)), 0o644); err != nil {
		return nil, nil, err
	}
	if err := os.WriteFile(w.previousLog, []byte(logLine(previousLogLine)), 0o644); err != nil {
		return nil, nil, err
	}
	config := filepath.Join(dir, "kwok-logs-exec.yaml")
	if err := os.WriteFile(config, fmt.Appendf(nil, kwokConfig, w.currentLog, w.previousLog, execDir), 0o644); err != nil {
		return nil, nil, err
	}
	noBash := filepath.Join(dir, "path-without-bash")
	if err := os.MkdirAll(noBash, 0o755); err != nil {
		return nil, nil, err
	}
	for _, tool := range []string{"sh", "echo", "cat", "env"} {
		path, err := exec.LookPath(tool)
		if err != nil {
			return nil, nil, fmt.Errorf("the fake containers need %s: %w", tool, err)
		}
		if err := os.Symlink(path, filepath.Join(noBash, tool)); err != nil {
			return nil, nil, err
		}
	}
	return &simcluster.KwokServer{Configs: []string{config}},
		&simcluster.KwokServer{Configs: []string{config}, Path: noBash}, nil
}
