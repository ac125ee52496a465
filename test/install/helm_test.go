package install

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dora-hpc/dora-operator/internal/simcluster"
)

// helm runs bin/helm against the simulated cluster as its administrator, with a Helm home of
// its own (no repositories, no plugins, nothing of the user's). It returns Helm's output and
// its error; the output goes to the test log either way.
func helm(t *testing.T, args ...string) (string, error) {
	t.Helper()
	root := repoRoot(t)
	home := filepath.Join(workDir, "helm")
	args = append(args, "--kubeconfig", cluster.Kubeconfig)
	cmd := exec.Command(filepath.Join(root, "bin", "helm"), args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(),
		"HELM_CACHE_HOME="+filepath.Join(home, "cache"),
		"HELM_CONFIG_HOME="+filepath.Join(home, "config"),
		"HELM_DATA_HOME="+filepath.Join(home, "data"),
	)
	out, err := cmd.CombinedOutput()
	t.Logf("helm %s:\n%s", strings.Join(args, " "), out)
	return string(out), err
}

// chartDir is the chart in the repository.
func chartDir(t *testing.T) string {
	return filepath.Join(repoRoot(t), "charts", "dora-operator")
}

// copyChart copies the chart to a new directory and returns it, for a test to change.
func copyChart(t *testing.T) string {
	t.Helper()
	src := chartDir(t)
	dst := filepath.Join(t.TempDir(), "dora-operator")
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), data, 0o644)
	})
	if err != nil {
		t.Fatalf("copying the chart: %v", err)
	}
	return dst
}

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := simcluster.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	return root
}
