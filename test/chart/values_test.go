package chart

import (
	"strings"
	"testing"
)

// The manager's objects under the default release name dora.
const (
	managerName     = "dora-controller-manager"
	webhookService  = "dora-webhook-service"
	managerUsername = "system:serviceaccount:dora-system:dora-controller-manager"
	agentUsername   = "system:serviceaccount:dora-system:dora-node-agent"
)

func TestChartRendersUnderValueTables(t *testing.T) {
	existingSecret := []string{"zone=test", "certManager.enabled=false", "webhook.certSecret=my-cert", "webhook.caBundle=Q0EK"}
	cases := []struct {
		name        string
		set         []string
		apiVersions []string
		// wantErr, when set, is a piece of the error the install must fail with.
		wantErr string
		check   func(t *testing.T, r rendering)
	}{
		{
			name: "default values with a zone render the CRDs, two manager replicas, the webhooks, the agent and the tenancy policies",
			set:  []string{"zone=dc-rov-01"},
			check: func(t *testing.T, r rendering) {
				if n := len(ofKind(r.objects, "CustomResourceDefinition")); n != 10 {
					t.Errorf("%d CRDs rendered, want the 10 of config/crd/bases", n)
				}
				d := find(r.objects, "Deployment", managerName)
				if d == nil {
					t.Fatalf("no Deployment %s", managerName)
				}
				if got := get(d, "spec", "replicas"); got != float64(2) {
					t.Errorf("replicas = %v, want 2", got)
				}
				for _, kind := range []string{"MutatingWebhookConfiguration", "ValidatingWebhookConfiguration", "DaemonSet", "PodDisruptionBudget"} {
					if len(ofKind(r.objects, kind)) != 1 {
						t.Errorf("want one %s, got %d", kind, len(ofKind(r.objects, kind)))
					}
				}
				if n := len(ofKind(r.objects, "ValidatingAdmissionPolicy")); n != 6 {
					t.Errorf("%d ValidatingAdmissionPolicies, want 6 (5 tenancy, 1 agent)", n)
				}
				if len(ofKind(r.objects, "ServiceMonitor"))+len(ofKind(r.objects, "PrometheusRule")) != 0 {
					t.Error("monitoring objects rendered without being asked for")
				}
				if !strings.Contains(r.notes, "kubectl get dora -A") {
					t.Errorf("NOTES.txt lacks the first commands:\n%s", r.notes)
				}
			},
		},
		{
			name:    "an install without a zone fails with the schema's message",
			set:     nil,
			wantErr: "missing property 'zone'",
		},
		{
			name:    "an empty zone is refused by the schema too",
			set:     []string{"zone="},
			wantErr: "/zone': minLength",
		},
		{
			name:    "a misspelt value is refused by the schema",
			set:     []string{"zone=test", "manager.replica=3"},
			wantErr: "additional properties 'replica' not allowed",
		},
		{
			name: "crds.install=false renders no CRD",
			set:  []string{"zone=test", "crds.install=false"},
			check: func(t *testing.T, r rendering) {
				if n := len(ofKind(r.objects, "CustomResourceDefinition")); n != 0 {
					t.Errorf("%d CRDs rendered, want none", n)
				}
			},
		},
		{
			name: "crds.keep, the default, annotates every CRD so that an uninstall leaves it",
			set:  []string{"zone=test"},
			check: func(t *testing.T, r rendering) {
				for _, crd := range ofKind(r.objects, "CustomResourceDefinition") {
					if got := crd.annotations()["helm.sh/resource-policy"]; got != "keep" {
						t.Errorf("CRD %s: helm.sh/resource-policy = %v, want keep", crd.name(), got)
					}
				}
			},
		},
		{
			name: "crds.keep=false lets an uninstall delete the CRDs",
			set:  []string{"zone=test", "crds.keep=false"},
			check: func(t *testing.T, r rendering) {
				for _, crd := range ofKind(r.objects, "CustomResourceDefinition") {
					if _, ok := crd.annotations()["helm.sh/resource-policy"]; ok {
						t.Errorf("CRD %s keeps a resource policy", crd.name())
					}
				}
			},
		},
		{
			name: "the manager's own certificate, the default: an empty Secret it fills, its flags, no cert-manager, no caBundle in the templates",
			set:  []string{"zone=test"},
			check: func(t *testing.T, r rendering) {
				if len(ofKind(r.objects, "Certificate"))+len(ofKind(r.objects, "Issuer")) != 0 {
					t.Error("cert-manager objects rendered without certManager.enabled")
				}
				secret := find(r.objects, "Secret", "dora-webhook-server-cert")
				if secret == nil {
					t.Fatal("no Secret dora-webhook-server-cert for the manager to fill")
				}
				if get(secret, "data") != nil || get(secret, "stringData") != nil {
					t.Error("the Secret has data in the chart: an upgrade would overwrite the manager's certificate")
				}
				if got := webhookSecretOf(t, r); got != "dora-webhook-server-cert" {
					t.Errorf("the manager mounts Secret %q, want the one it fills", got)
				}
				args := containerArgs(find(r.objects, "Deployment", managerName))
				for _, want := range []string{
					"--webhook-cert-secret=dora-webhook-server-cert", "--webhook-service=" + webhookService,
					"--webhook-mutating-configurations=dora-mutating-webhook-configuration",
					"--webhook-validating-configurations=dora-validating-webhook-configuration",
				} {
					if !hasArg(args, want) {
						t.Errorf("manager args %v lack %s", args, want)
					}
				}
				for kind, flag := range map[string]string{"MutatingWebhookConfiguration": "--webhook-mutating-configurations=", "ValidatingWebhookConfiguration": "--webhook-validating-configurations="} {
					for _, cfg := range ofKind(r.objects, kind) {
						if _, ok := cfg.annotations()["cert-manager.io/inject-ca-from"]; ok {
							t.Errorf("%s asks cert-manager for its CA", cfg.name())
						}
						// The name the manager is told must be the configuration's.
						if !hasArg(args, flag+cfg.name()) {
							t.Errorf("manager args %v do not name %s %s", args, kind, cfg.name())
						}
						for _, w := range webhooksOf(cfg) {
							if got := str(w, "clientConfig", "caBundle"); got != "" {
								t.Errorf("%s %s: caBundle %q rendered: the manager injects it", kind, str(w, "name"), got)
							}
						}
					}
				}
			},
		},
		{
			name: "cert-manager issues the serving certificate and injects its CA into both webhook configurations",
			set:  []string{"zone=test", "certManager.enabled=true"},
			check: func(t *testing.T, r rendering) {
				if find(r.objects, "Issuer", "dora-selfsigned-issuer") == nil {
					t.Error("no self-signed Issuer")
				}
				cert := find(r.objects, "Certificate", "dora-serving-cert")
				if cert == nil {
					t.Fatal("no Certificate dora-serving-cert")
				}
				if got := str(cert, "spec", "secretName"); got != "dora-webhook-server-cert" {
					t.Errorf("Certificate secretName = %q", got)
				}
				dns, _ := get(cert, "spec", "dnsNames").([]any)
				if len(dns) == 0 || dns[0] != webhookService+".dora-system.svc" {
					t.Errorf("Certificate dnsNames = %v, want the webhook Service's name first", dns)
				}
				for _, kind := range []string{"MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"} {
					for _, w := range ofKind(r.objects, kind) {
						if got := w.annotations()["cert-manager.io/inject-ca-from"]; got != "dora-system/dora-serving-cert" {
							t.Errorf("%s %s: inject-ca-from = %v", kind, w.name(), got)
						}
					}
				}
				if got := webhookSecretOf(t, r); got != "dora-webhook-server-cert" {
					t.Errorf("the manager mounts Secret %q, want the Certificate's", got)
				}
				if find(r.objects, "Secret", "dora-webhook-server-cert") != nil {
					t.Error("the chart renders the Secret cert-manager owns")
				}
				if hasArg(containerArgs(find(r.objects, "Deployment", managerName)), "--webhook-cert-secret=") {
					t.Error("the manager is told to make a certificate cert-manager makes")
				}
			},
		},
		{
			name: "cert-manager with an issuerRef uses that issuer and makes none",
			set:  []string{"zone=test", "certManager.enabled=true", "certManager.issuerRef.kind=ClusterIssuer", "certManager.issuerRef.name=corp-ca"},
			check: func(t *testing.T, r rendering) {
				if len(ofKind(r.objects, "Issuer")) != 0 {
					t.Error("an Issuer was made though issuerRef names one")
				}
				cert := find(r.objects, "Certificate", "dora-serving-cert")
				if got := str(cert, "spec", "issuerRef", "name"); got != "corp-ca" || str(cert, "spec", "issuerRef", "kind") != "ClusterIssuer" {
					t.Errorf("Certificate issuerRef = %v", get(cert, "spec", "issuerRef"))
				}
			},
		},
		{
			name: "an existing Secret instead of cert-manager is mounted, and its CA set as every webhook's caBundle",
			set:  existingSecret,
			check: func(t *testing.T, r rendering) {
				if len(ofKind(r.objects, "Certificate"))+len(ofKind(r.objects, "Issuer")) != 0 {
					t.Error("cert-manager objects rendered with cert-manager off")
				}
				if len(ofKind(r.objects, "Secret")) != 0 || hasArg(containerArgs(find(r.objects, "Deployment", managerName)), "--webhook-cert-secret=") {
					t.Error("the manager is told to make a certificate for an existing Secret")
				}
				if got := webhookSecretOf(t, r); got != "my-cert" {
					t.Errorf("the manager mounts Secret %q, want my-cert", got)
				}
				for _, kind := range []string{"MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"} {
					for _, cfg := range ofKind(r.objects, kind) {
						if _, ok := cfg.annotations()["cert-manager.io/inject-ca-from"]; ok {
							t.Errorf("%s still asks cert-manager for its CA", cfg.name())
						}
						for _, w := range webhooksOf(cfg) {
							if got := str(w, "clientConfig", "caBundle"); got != "Q0EK" {
								t.Errorf("%s %s: caBundle = %q", kind, str(w, "name"), got)
							}
						}
					}
				}
			},
		},
		{
			name:    "an existing Secret without its CA fails and says which value to set",
			set:     []string{"zone=test", "certManager.enabled=false", "webhook.certSecret=my-cert"},
			wantErr: "webhook.caBundle",
		},
		{
			name: "agent.enabled=false renders no agent, no agent RBAC and no agent policy",
			set:  []string{"zone=test", "agent.enabled=false"},
			check: func(t *testing.T, r rendering) {
				for _, o := range r.objects {
					if o.labels()["app.kubernetes.io/component"] == "node-agent" {
						t.Errorf("%s %s rendered with the agent off", o.kind(), o.name())
					}
				}
			},
		},
		{
			name: "agent.gfdLabels=false turns the agent's GFD labels off, and its scheduling values reach the DaemonSet",
			set:  []string{"zone=test", "agent.gfdLabels=false", "agent.nodeSelector.nvidia\\.com/gpu\\.present=yes", "agent.tolerations[0].key=gpu", "agent.tolerations[0].operator=Exists"},
			check: func(t *testing.T, r rendering) {
				ds := find(r.objects, "DaemonSet", "dora-node-agent")
				if !hasArg(containerArgs(ds), "--gfd-labels=false") {
					t.Errorf("agent args %v lack --gfd-labels=false", containerArgs(ds))
				}
				if got := str(ds, "spec", "template", "spec", "nodeSelector", "nvidia.com/gpu.present"); got != "yes" {
					t.Errorf("agent nodeSelector = %v", get(ds, "spec", "template", "spec", "nodeSelector"))
				}
				tol, _ := get(ds, "spec", "template", "spec", "tolerations").([]any)
				if len(tol) != 1 || tol[0].(map[string]any)["key"] != "gpu" {
					t.Errorf("agent tolerations = %v", tol)
				}
			},
		},
		{
			name: "the agent policy names the release's agent ServiceAccount, and the tenancy policies its manager",
			set:  []string{"zone=test"},
			check: func(t *testing.T, r rendering) {
				p := find(r.objects, "ValidatingAdmissionPolicy", "dora-node-agent-own-node")
				conds, _ := get(p, "spec", "matchConditions").([]any)
				if len(conds) != 1 || !strings.Contains(conds[0].(map[string]any)["expression"].(string), "'"+agentUsername+"'") {
					t.Errorf("agent policy matchConditions = %v, want the username %s", conds, agentUsername)
				}
				for _, b := range ofKind(r.objects, "ValidatingAdmissionPolicyBinding") {
					if find(r.objects, "ValidatingAdmissionPolicy", str(b, "spec", "policyName")) == nil {
						t.Errorf("binding %s names policy %s, which the chart does not render", b.name(), str(b, "spec", "policyName"))
					}
				}
				for _, pol := range ofKind(r.objects, "ValidatingAdmissionPolicy") {
					for _, v := range listOf(get(pol, "spec", "variables")) {
						if v["name"] == "manager" && v["expression"] != "'"+managerUsername+"'" {
							t.Errorf("policy %s: variables.manager = %v, want '%s'", pol.name(), v["expression"], managerUsername)
						}
					}
				}
			},
		},
		{
			name: "tenancy.enabled=false renders no tenancy policy",
			set:  []string{"zone=test", "tenancy.enabled=false"},
			check: func(t *testing.T, r rendering) {
				if n := len(ofKind(r.objects, "ValidatingAdmissionPolicy")); n != 1 {
					t.Errorf("%d policies, want only the agent's", n)
				}
			},
		},
		{
			name: "a ServiceMonitor asked for on a cluster without monitoring.coreos.com/v1 is left out",
			set:  []string{"zone=test", "metrics.serviceMonitor.enabled=true"},
			check: func(t *testing.T, r rendering) {
				if n := len(ofKind(r.objects, "ServiceMonitor")); n != 0 {
					t.Errorf("%d ServiceMonitors rendered without the API", n)
				}
			},
		},
		{
			name:        "a ServiceMonitor asked for on a cluster with monitoring.coreos.com/v1 scrapes the metrics Service over HTTPS with a token",
			set:         []string{"zone=test", "metrics.serviceMonitor.enabled=true"},
			apiVersions: []string{"monitoring.coreos.com/v1"},
			check: func(t *testing.T, r rendering) {
				sm := find(r.objects, "ServiceMonitor", "dora-manager")
				if sm == nil {
					t.Fatal("no ServiceMonitor dora-manager")
				}
				ep := listOf(get(sm, "spec", "endpoints"))
				if len(ep) != 1 || ep[0]["scheme"] != "https" || ep[0]["port"] != "https" || ep[0]["bearerTokenFile"] == nil {
					t.Errorf("ServiceMonitor endpoints = %v", ep)
				}
			},
		},
		{
			name:        "a ServiceMonitor not asked for is left out even where the API is served",
			set:         []string{"zone=test"},
			apiVersions: []string{"monitoring.coreos.com/v1"},
			check: func(t *testing.T, r rendering) {
				if n := len(ofKind(r.objects, "ServiceMonitor")); n != 0 {
					t.Errorf("%d ServiceMonitors rendered", n)
				}
			},
		},
		{
			name: "a PrometheusRule alerts on the manager's health and on credits from metrics it exports",
			set:  []string{"zone=test", "metrics.prometheusRule.enabled=true"},
			check: func(t *testing.T, r rendering) {
				rule := find(r.objects, "PrometheusRule", "dora-manager")
				if rule == nil {
					t.Fatal("no PrometheusRule dora-manager")
				}
				var exprs []string
				for _, g := range listOf(get(rule, "spec", "groups")) {
					for _, rl := range listOf(g["rules"]) {
						exprs = append(exprs, rl["expr"].(string))
					}
				}
				all := strings.Join(exprs, "\n")
				for _, metric := range []string{"up{", "controller_runtime_reconcile_errors_total", "controller_runtime_webhook_requests_total", "leader_election_master_status",
					"dora_credits_unpriced_gpu_seconds_total", "dora_credits_exhausted"} {
					if !strings.Contains(all, metric) {
						t.Errorf("no alert on %s in:\n%s", metric, all)
					}
				}
				if !strings.Contains(all, `job="dora-metrics-service", namespace="dora-system"`) {
					t.Errorf("the alerts do not select the release's metrics Service:\n%s", all)
				}
			},
		},
		{
			name: "the manager gets its flags from the values, credit week flags only when set",
			set:  []string{"zone=dc-rov-01", "manager.usernamePrefix=oidc:", "manager.helperImage=busybox:1.36", "manager.logLevel=debug", "manager.kubeAPI.qps=50", "manager.kubeAPI.burst=80"},
			check: func(t *testing.T, r rendering) {
				args := containerArgs(find(r.objects, "Deployment", managerName))
				for _, want := range []string{
					"--leader-elect", "--zone=dc-rov-01", "--namespace=dora-system", "--agent-namespace=dora-system",
					"--metrics-bind-address=:8443", "--metrics-secure=true", "--health-probe-bind-address=:8081",
					"--username-prefix=oidc:", "--helper-image=busybox:1.36", "--zap-log-level=debug",
					"--kube-api-qps=50", "--kube-api-burst=80",
				} {
					if !hasArg(args, want) {
						t.Errorf("manager args %v lack %s", args, want)
					}
				}
				for _, absent := range []string{"--credits-reset-day=", "--credits-reset-time=", "--credits-reset-zone=", "--credits-safe", "--credits-require-budget"} {
					if hasArg(args, absent) {
						t.Errorf("manager args %v hold %s though it is not set", args, absent)
					}
				}
			},
		},
		{
			name: "a credit week set in the values reaches the manager",
			set:  []string{"zone=test", "manager.credits.resetDay=Monday", "manager.credits.resetTime=06:00", "manager.credits.resetZone=Europe/Rome", "manager.credits.safe=true", "manager.credits.requireBudget=true"},
			check: func(t *testing.T, r rendering) {
				args := containerArgs(find(r.objects, "Deployment", managerName))
				for _, want := range []string{"--credits-reset-day=Monday", "--credits-reset-time=06:00", "--credits-reset-zone=Europe/Rome", "--credits-safe", "--credits-require-budget"} {
					if !hasArg(args, want) {
						t.Errorf("manager args %v lack %s", args, want)
					}
				}
			},
		},
		{
			name: "the manager runs restricted, spread over nodes, probed, with a disruption budget",
			set:  []string{"zone=test"},
			check: func(t *testing.T, r rendering) {
				d := find(r.objects, "Deployment", managerName)
				pod, _ := get(d, "spec", "template", "spec").(map[string]any)
				if get(pod, "securityContext", "runAsNonRoot") != true || str(pod, "securityContext", "seccompProfile", "type") != "RuntimeDefault" {
					t.Errorf("pod securityContext = %v", pod["securityContext"])
				}
				c := listOf(pod["containers"])[0]
				if get(c, "securityContext", "readOnlyRootFilesystem") != true || get(c, "securityContext", "allowPrivilegeEscalation") != false {
					t.Errorf("container securityContext = %v", c["securityContext"])
				}
				if drop, _ := get(c, "securityContext", "capabilities", "drop").([]any); len(drop) != 1 || drop[0] != "ALL" {
					t.Errorf("capabilities.drop = %v", drop)
				}
				if str(c, "livenessProbe", "httpGet", "path") != "/healthz" || str(c, "readinessProbe", "httpGet", "path") != "/readyz" {
					t.Errorf("probes = %v, %v", c["livenessProbe"], c["readinessProbe"])
				}
				if get(c, "resources", "requests") == nil || get(c, "resources", "limits") == nil {
					t.Errorf("resources = %v", c["resources"])
				}
				if env := listOf(c["env"]); len(env) == 0 || env[0]["name"] != "POD_NAMESPACE" || str(env[0], "valueFrom", "fieldRef", "fieldPath") != "metadata.namespace" {
					t.Errorf("env = %v, want POD_NAMESPACE from the downward API", env)
				}
				spread := listOf(pod["topologySpreadConstraints"])
				if len(spread) != 1 || spread[0]["topologyKey"] != "kubernetes.io/hostname" {
					t.Errorf("topologySpreadConstraints = %v", spread)
				}
				pdb := find(r.objects, "PodDisruptionBudget", managerName)
				if get(pdb, "spec", "minAvailable") != float64(1) {
					t.Errorf("PodDisruptionBudget = %v", pdb)
				}
				if pod["serviceAccountName"] != managerName || find(r.objects, "ServiceAccount", managerName) == nil {
					t.Errorf("serviceAccountName = %v", pod["serviceAccountName"])
				}
			},
		},
		{
			name: "every webhook points at the manager's webhook Service, which serves 443 from the pods' 9443",
			set:  []string{"zone=test"},
			check: func(t *testing.T, r rendering) {
				for _, kind := range []string{"MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"} {
					for _, w := range webhooksOf(ofKind(r.objects, kind)[0]) {
						if str(w, "clientConfig", "service", "name") != webhookService || str(w, "clientConfig", "service", "namespace") != namespace {
							t.Errorf("webhook %s calls %v", w["name"], get(w, "clientConfig", "service"))
						}
					}
				}
				svc := find(r.objects, "Service", webhookService)
				ports := listOf(get(svc, "spec", "ports"))
				if len(ports) != 1 || ports[0]["port"] != float64(443) || ports[0]["targetPort"] != float64(9443) {
					t.Errorf("webhook Service ports = %v", ports)
				}
				if find(r.objects, "Service", "dora-metrics-service") == nil {
					t.Error("no metrics Service")
				}
			},
		},
		{
			name: "the helm test hook dry-runs a Workload with a ServiceAccount that may only create Workloads",
			set:  []string{"zone=test", "tests.kubectlImage=example.com/kubectl:1"},
			check: func(t *testing.T, r rendering) {
				pod := find(r.objects, "Pod", "dora-test")
				if pod == nil || pod.annotations()["helm.sh/hook"] != "test" {
					t.Fatalf("no test hook Pod dora-test: %v", pod)
				}
				c := listOf(get(pod, "spec", "containers"))[0]
				if c["image"] != "example.com/kubectl:1" || !strings.Contains(strings.Join(toStrings(c["args"]), " "), "--dry-run=server") {
					t.Errorf("test container = %v", c)
				}
				role := find(r.objects, "Role", "dora-test")
				rules := listOf(get(role, "rules"))
				if len(rules) != 1 || strings.Join(toStrings(rules[0]["verbs"]), ",") != "create" || strings.Join(toStrings(rules[0]["resources"]), ",") != "workloads" {
					t.Errorf("test Role rules = %v", rules)
				}
				if strings.Contains(r.manifest, "dora-test") {
					t.Error("the test objects are in the release manifest, not only hooks")
				}
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := render(t, renderOptions{set: tc.set, apiVersions: tc.apiVersions})
			switch {
			case tc.wantErr != "" && err == nil:
				t.Fatalf("rendered, want an error with %q", tc.wantErr)
			case tc.wantErr != "" && !strings.Contains(err.Error(), tc.wantErr):
				t.Fatalf("error %q, want one with %q", err, tc.wantErr)
			case tc.wantErr != "":
				return
			case err != nil:
				t.Fatalf("rendering: %v", err)
			}
			tc.check(t, r)
		})
	}
}

// webhookSecretOf is the Secret the manager mounts as its webhook certificate.
func webhookSecretOf(t *testing.T, r rendering) string {
	t.Helper()
	for _, v := range listOf(get(find(r.objects, "Deployment", managerName), "spec", "template", "spec", "volumes")) {
		if v["name"] == "webhook-certs" {
			return str(v, "secret", "secretName")
		}
	}
	t.Fatal("the manager mounts no webhook-certs volume")
	return ""
}

// webhooksOf are the webhooks of a webhook configuration.
func webhooksOf(cfg object) []map[string]any { return listOf(cfg["webhooks"]) }

// listOf is a YAML list of maps.
func listOf(v any) []map[string]any {
	raw, _ := v.([]any)
	out := make([]map[string]any, 0, len(raw))
	for _, e := range raw {
		if m, ok := e.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

// toStrings is a YAML list of scalars as strings.
func toStrings(v any) []string {
	raw, _ := v.([]any)
	out := make([]string, 0, len(raw))
	for _, e := range raw {
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	return out
}
