package agent

import (
	"github.com/prometheus/client_golang/prometheus"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
)

// Collector serves the latest reading of every GPU as Prometheus metrics, labelled with the
// node, the GPU's UUID and model, and the pod holding it ("" when free). It reads the last
// poll's snapshot, so a scrape never touches NVML and a GPU that disappears stops being
// reported.
type Collector struct {
	agent *Agent
	node  string
}

// NewCollector returns a collector for the agent's readings.
func NewCollector(a *Agent) *Collector { return &Collector{agent: a, node: a.cfg.NodeName} }

var (
	gpuLabels     = []string{"node", "uuid", "model", "pod"}
	descMemTotal  = prometheus.NewDesc("dora_gpu_memory_total_bytes", "GPU memory.", gpuLabels, nil)
	descMemUsed   = prometheus.NewDesc("dora_gpu_memory_used_bytes", "GPU memory in use.", gpuLabels, nil)
	descUtil      = prometheus.NewDesc("dora_gpu_utilization_ratio", "GPU utilisation, 0 to 1.", gpuLabels, nil)
	descTemp      = prometheus.NewDesc("dora_gpu_temperature_celsius", "GPU temperature.", gpuLabels, nil)
	descPower     = prometheus.NewDesc("dora_gpu_power_watts", "GPU power draw.", gpuLabels, nil)
	descHealthy   = prometheus.NewDesc("dora_gpu_healthy", "1 when the GPU is healthy, 0 after an NVML error or a critical XID.", gpuLabels, nil)
	descNVMLReady = prometheus.NewDesc("dora_node_nvml_available", "1 when NVML answers on the node.", []string{"node"}, nil)
)

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descMemTotal, descMemUsed, descUtil, descTemp, descPower, descHealthy, descNVMLReady} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	st := c.agent.Latest()
	if st == nil {
		return
	}
	nvmlReady := 0.0
	for _, cond := range st.Conditions {
		if cond.Type == doradev1.NodeNVMLAvailable && cond.Status == metav1.ConditionTrue {
			nvmlReady = 1
		}
	}
	ch <- prometheus.MustNewConstMetric(descNVMLReady, prometheus.GaugeValue, nvmlReady, c.node)
	for _, g := range st.GPUs {
		labels := []string{c.node, g.UUID, g.Product, g.Pod}
		healthy := 0.0
		if g.Healthy {
			healthy = 1
		}
		ch <- prometheus.MustNewConstMetric(descMemTotal, prometheus.GaugeValue, float64(g.MemoryTotalMiB)*(1<<20), labels...)
		ch <- prometheus.MustNewConstMetric(descMemUsed, prometheus.GaugeValue, float64(g.MemoryUsedMiB)*(1<<20), labels...)
		ch <- prometheus.MustNewConstMetric(descUtil, prometheus.GaugeValue, float64(g.Utilization)/100, labels...)
		ch <- prometheus.MustNewConstMetric(descTemp, prometheus.GaugeValue, float64(g.Temperature), labels...)
		ch <- prometheus.MustNewConstMetric(descPower, prometheus.GaugeValue, float64(g.PowerWatts), labels...)
		ch <- prometheus.MustNewConstMetric(descHealthy, prometheus.GaugeValue, healthy, labels...)
	}
}
