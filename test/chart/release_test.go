package chart

import (
	"strings"
	"testing"
)

// everything turns every optional object on, so that the release-wide checks see them all.
var everything = renderOptions{
	set:         []string{"zone=test", "metrics.serviceMonitor.enabled=true", "metrics.prometheusRule.enabled=true"},
	apiVersions: []string{"monitoring.coreos.com/v1"},
}

func TestTwoRendersAreByteIdentical(t *testing.T) {
	for _, opts := range []renderOptions{everything, {set: []string{"zone=test", "certManager.enabled=false", "webhook.certSecret=s", "webhook.caBundle=Q0EK"}}} {
		first, second := mustRender(t, opts), mustRender(t, opts)
		if first.manifest != second.manifest {
			t.Errorf("two renders with %v differ: a template is not deterministic (genCA, randAlpha, now?)", opts.set)
		}
	}
}

func TestEveryObjectCarriesTheReleaseLabelsAndAReleasePrefixedName(t *testing.T) {
	for _, release := range []string{"dora", "gpu"} {
		t.Run("release "+release, func(t *testing.T) {
			opts := everything
			opts.release = release
			r := mustRender(t, opts)
			for _, o := range r.objects {
				if o.labels()["app.kubernetes.io/instance"] != release || o.labels()["app.kubernetes.io/managed-by"] != "Helm" {
					t.Errorf("%s %s: labels %v lack the release's", o.kind(), o.name(), o.labels())
				}
				// A CRD's name is its plural and group; nothing else may collide with another release's.
				if o.kind() != "CustomResourceDefinition" && !strings.HasPrefix(o.name(), release+"-") {
					t.Errorf("%s %s: the name does not start with the release's %s-", o.kind(), o.name(), release)
				}
				if ns := str(o, "metadata", "namespace"); ns != "" && ns != namespace {
					t.Errorf("%s %s: namespace %s, not the release's", o.kind(), o.name(), ns)
				}
			}
		})
	}
}
