package manager

import (
	"os"
	"path/filepath"
	"testing"

	"sigs.k8s.io/yaml"
)

// The Helm chart installs the manager with the binary's own client limits: what make bench
// measures (it reads the chart) is what both kinds of install get.
func TestTheChartsClientLimitsAreTheBinarysDefaults(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "charts", "dora-operator", "values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var values struct {
		Manager struct {
			KubeAPI struct {
				QPS   float64 `json:"qps"`
				Burst int     `json:"burst"`
			} `json:"kubeAPI"`
		} `json:"manager"`
	}
	if err := yaml.Unmarshal(data, &values); err != nil {
		t.Fatal(err)
	}
	if got := values.Manager.KubeAPI; got.QPS != DefaultKubeAPIQPS || got.Burst != DefaultKubeAPIBurst {
		t.Errorf("the chart's manager.kubeAPI is qps %v / burst %d, the binary's defaults %d / %d: make them the same",
			got.QPS, got.Burst, DefaultKubeAPIQPS, DefaultKubeAPIBurst)
	}
}
