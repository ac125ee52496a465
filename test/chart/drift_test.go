package chart

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The chart carries copies of what `make manifests` generates and of config/'s hand-written
// policies; these tests fail when a copy and its source part, so that neither install path
// (kustomize or Helm) silently differs from the other.

func TestChartCRDsAreByteCopiesOfConfigCRDBases(t *testing.T) {
	src, _ := filepath.Glob(filepath.Join(repoRoot, "config", "crd", "bases", "*.yaml"))
	dst, _ := filepath.Glob(filepath.Join(chartDir, "files", "crds", "*.yaml"))
	if len(src) == 0 {
		t.Fatal("no CRDs in config/crd/bases")
	}
	names := func(paths []string) []string {
		out := make([]string, len(paths))
		for i, p := range paths {
			out[i] = filepath.Base(p)
		}
		return out
	}
	if diff := cmp.Diff(names(src), names(dst)); diff != "" {
		t.Fatalf("the chart's files/crds hold other CRDs than config/crd/bases (-config +chart):\n%s\nRun make manifests.", diff)
	}
	for _, s := range src {
		want, _ := os.ReadFile(s)
		got, _ := os.ReadFile(filepath.Join(chartDir, "files", "crds", filepath.Base(s)))
		if !bytes.Equal(want, got) {
			t.Errorf("charts/dora-operator/files/crds/%s differs from config/crd/bases: run make manifests", filepath.Base(s))
		}
	}
}

func TestChartGeneratedRBACAndWebhooksAreByteCopiesOfConfig(t *testing.T) {
	for _, copied := range []struct{ config, chart string }{
		{"config/rbac/role.yaml", "files/rbac/role.yaml"},
		{"config/webhook/manifests.yaml", "files/webhook/manifests.yaml"},
	} {
		want, err := os.ReadFile(filepath.Join(repoRoot, copied.config))
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join(chartDir, copied.chart))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(want, got) {
			t.Errorf("charts/dora-operator/%s differs from %s: run make manifests", copied.chart, copied.config)
		}
	}
}

func TestChartRendersTheCRDsAsGeneratedWithOnlyLabelsAndKeepAdded(t *testing.T) {
	r := mustRender(t, renderOptions{set: []string{"zone=test"}})
	for _, want := range readObjects(t, "config/crd/bases/*.yaml") {
		got := find(r.objects, "CustomResourceDefinition", want.name())
		if got == nil {
			t.Errorf("CRD %s not rendered", want.name())
			continue
		}
		meta := got["metadata"].(map[string]any)
		delete(meta, "labels")
		delete(meta["annotations"].(map[string]any), "helm.sh/resource-policy")
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("CRD %s (-config +chart):\n%s", want.name(), diff)
		}
	}
}

func TestChartRBACRulesEqualConfigRBAC(t *testing.T) {
	r := mustRender(t, renderOptions{set: []string{"zone=test"}})
	config := append(readObjects(t, "config/rbac/*.yaml"), readObjects(t, "config/agent/rbac.yaml")...)
	// The chart's name of each of config's roles.
	pairs := []struct{ kind, config, chart string }{
		{"ClusterRole", "manager-role", "dora-manager"},
		{"Role", "manager-role", "dora-manager"},
		{"Role", "leader-election", "dora-leader-election"},
		{"ClusterRole", "metrics-reader", "dora-metrics-reader"},
		{"ClusterRole", "webhook-cert", "dora-webhook-cert"},
		{"ClusterRole", "node-agent", "dora-node-agent"},
		{"Role", "node-agent-lease", "dora-node-agent-lease"},
	}
	for _, p := range pairs {
		want, got := find(config, p.kind, p.config), find(r.objects, p.kind, p.chart)
		if want == nil || got == nil {
			t.Errorf("%s: config's %s (%v) or the chart's %s (%v) is missing", p.kind, p.config, want != nil, p.chart, got != nil)
			continue
		}
		if diff := cmp.Diff(want["rules"], got["rules"]); diff != "" {
			t.Errorf("%s %s: the chart's rules differ from config's %s (-config +chart):\n%s", p.kind, p.chart, p.config, diff)
		}
	}
	// Every config role has its pair: a new role in config/rbac must reach the chart.
	for _, o := range config {
		if o.kind() != "ClusterRole" && o.kind() != "Role" {
			continue
		}
		paired := false
		for _, p := range pairs {
			paired = paired || p.kind == o.kind() && p.config == o.name()
		}
		if !paired {
			t.Errorf("config's %s %s has no counterpart in the chart", o.kind(), o.name())
		}
	}
}

func TestChartWebhooksEqualConfigWebhookButForTheirService(t *testing.T) {
	r := mustRender(t, renderOptions{set: []string{"zone=test"}})
	config := readObjects(t, "config/webhook/manifests.yaml")
	for _, kind := range []string{"MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"} {
		want, got := ofKind(config, kind), ofKind(r.objects, kind)
		if len(want) != 1 || len(got) != 1 {
			t.Fatalf("%s: %d in config, %d in the chart", kind, len(want), len(got))
		}
		ws := webhooksOf(want[0])
		for _, w := range ws {
			svc := get(w, "clientConfig", "service").(map[string]any)
			svc["name"], svc["namespace"] = webhookService, namespace
		}
		if diff := cmp.Diff(ws, webhooksOf(got[0])); diff != "" {
			t.Errorf("%s (-config +chart):\n%s", kind, diff)
		}
	}
}

func TestChartPoliciesEqualConfigPoliciesButForTheReleaseNames(t *testing.T) {
	r := mustRender(t, renderOptions{set: []string{"zone=test"}})
	config := append(readObjects(t, "config/tenancy/*.yaml"), readObjects(t, "config/agent/admission_policy.yaml")...)
	// config/default's names, which the chart replaces with the release's.
	kustomized := strings.NewReplacer(
		"system:serviceaccount:dora-system:dora-controller-manager", managerUsername,
		"system:serviceaccount:dora-system:dora-node-agent", agentUsername,
	)
	for _, kind := range []string{"ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding"} {
		wants := ofKind(config, kind)
		if n := len(ofKind(r.objects, kind)); n != len(wants) {
			t.Errorf("%d %ss in config, %d in the chart", len(wants), kind, n)
		}
		for _, want := range wants {
			got := find(r.objects, kind, "dora-"+want.name())
			if got == nil {
				t.Errorf("%s dora-%s not rendered", kind, want.name())
				continue
			}
			spec := replaceStrings(want["spec"], kustomized)
			if diff := cmp.Diff(spec, got["spec"]); diff != "" {
				t.Errorf("%s %s (-config +chart):\n%s", kind, got.name(), diff)
			}
		}
	}
}

// replaceStrings is v with every string in it passed through r.
func replaceStrings(v any, r *strings.Replacer) any {
	switch v := v.(type) {
	case string:
		return r.Replace(v)
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = replaceStrings(e, r)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = replaceStrings(e, r)
		}
		return out
	}
	return v
}
