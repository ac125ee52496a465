package e2e

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"slices"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/simcluster"
	"github.com/dora-hpc/dora-operator/test/harness"
)

// rawWorkload is a Workload written as JSON, to send values its Go type could not hold.
func rawWorkload(namespace, name string, spec map[string]any) *unstructured.Unstructured {
	spec["image"] = map[string]any{"image": "ubuntu"}
	u := &unstructured.Unstructured{Object: map[string]any{"spec": spec}}
	u.SetAPIVersion(doradev1.GroupVersion.String())
	u.SetKind("Workload")
	u.SetNamespace(namespace)
	u.SetName(name)
	return u
}

// A GPU count over the int32 the Workload's Go type holds would, once stored, keep every
// informer from decoding the list of Workloads, and so stop the manager for everybody. The
// schema refuses it, and every other bad count, at admission, naming the field; the manager
// goes on reconciling the good workloads that follow.
func TestAnObjectTheManagerCouldNotReadIsRefusedAndOthersStillRun(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	ns := workspace(t, "e2e.bounds")

	bad := []struct {
		name string
		spec map[string]any
		says []string
	}{
		{"gpus-over-int32", map[string]any{"selectors": map[string]any{"gpu": map[string]any{"count": int64(3000000000)}}},
			[]string{"spec.selectors.gpu.count", "at most 64 per replica"}},
		{"gpus-as-a-long-string", map[string]any{"selectors": map[string]any{"gpu": map[string]any{"count": "3000000000"}}},
			[]string{"spec.selectors.gpu.count"}},
		{"gpus-65", map[string]any{"selectors": map[string]any{"gpu": map[string]any{"count": int64(65)}}},
			[]string{"spec.selectors.gpu.count", "at most 64 per replica"}},
		{"cpus-over-int32", map[string]any{"selectors": map[string]any{"cpu": map[string]any{"count": int64(5000000000)}}},
			[]string{"spec.selectors.cpu.count", "from 0 to 1024 cores"}},
		{"millicores-over-1024-cores", map[string]any{"selectors": map[string]any{"cpu": map[string]any{"count": "2000000m"}}},
			[]string{"spec.selectors.cpu.count", "from 0 to 1024 cores"}},
		{"node-ports-past-65535", map[string]any{"replica": map[string]any{"count": int64(3)},
			"network": map[string]any{"ports": []any{map[string]any{"port": int64(8008), "nodePort": int64(65534)}}}},
			[]string{"spec.network.ports", "nodePort + replica.count - 1 must be at most 65535"}},
		{"shm-over-int64", map[string]any{"config": map[string]any{"shmSize": float64(1e20)}},
			[]string{"spec.config.shmSize"}},
	}
	for _, b := range bad {
		err := k8sClient.Create(ctx, rawWorkload(ns, b.name, b.spec))
		g.Expect(err).To(HaveOccurred(), "%s should be refused", b.name)
		for _, s := range b.says {
			g.Expect(err.Error()).To(ContainSubstring(s), "%s", b.name)
		}
	}

	good := gpuWorkload(ns, "after-the-bad-ones", 2, 1, "Tesla V100-SXM2-16GB")
	g.Expect(k8sClient.Create(ctx, good)).To(Succeed())
	expectPhase(g, good, doradev1.WorkloadPhaseRunning, "a good workload after the refused ones still gets its pods")
	g.Expect(workloadPods(g, good)).To(HaveLen(2))
	g.Expect(k8sClient.List(ctx, &doradev1.WorkloadList{})).To(Succeed(), "every stored workload decodes")
}

// Pods the API server refuses (here a ResourceQuota of one pod) are a PodsAdmitted
// condition with the server's own words, not a silent retry loop; once the quota is lifted
// the manager creates the rest by itself.
func TestPodsAQuotaRefusesAreReportedAndCreatedOnceItIsLifted(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	ns := workspace(t, "e2e.quota")
	quota := &corev1.ResourceQuota{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "one-pod"},
		Spec:       corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{corev1.ResourcePods: resource.MustParse("1")}},
	}
	g.Expect(k8sClient.Create(ctx, quota)).To(Succeed())
	// The simulated cluster runs no resource-quota controller: its status, which admission
	// counts against, is set here as that controller would.
	quota.Status = corev1.ResourceQuotaStatus{Hard: quota.Spec.Hard, Used: corev1.ResourceList{corev1.ResourcePods: resource.MustParse("0")}}
	g.Expect(k8sClient.Status().Update(ctx, quota)).To(Succeed())

	wl := gpuWorkload(ns, "over-quota", 3, 0)
	g.Expect(k8sClient.Create(ctx, wl)).To(Succeed())
	g.Eventually(func(g Gomega) {
		g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(wl), wl)).To(Succeed())
		c := meta.FindStatusCondition(wl.Status.Conditions, doradev1.WorkloadPodsAdmitted)
		g.Expect(c).NotTo(BeNil())
		g.Expect(c.Status).To(Equal(metav1.ConditionFalse))
		g.Expect(c.Reason).To(Equal(doradev1.ReasonPodsRefused))
		g.Expect(c.Message).To(ContainSubstring("exceeded quota: one-pod"))
		g.Expect(meta.FindStatusCondition(wl.Status.Conditions, doradev1.ConditionReady).Reason).To(Equal(doradev1.ReasonPodsRefused))
	}).WithTimeout(30*time.Second).Should(Succeed(), "the refusal should be reported with the quota's words")
	g.Expect(workloadPods(g, wl)).To(HaveLen(1), "the quota admits one pod")

	g.Expect(k8sClient.Delete(ctx, quota)).To(Succeed())
	expectPhase(g, wl, doradev1.WorkloadPhaseRunning, "with the quota gone the manager creates the other two pods by itself")
	g.Expect(workloadPods(g, wl)).To(HaveLen(3))
	g.Expect(meta.IsStatusConditionTrue(wl.Status.Conditions, doradev1.WorkloadPodsAdmitted)).To(BeTrue())
}

// The manager runs in these tests as its own service account with exactly config/rbac's
// permissions (every other test proves they are enough); here, that they are no more:
// no wildcard, Secrets only of its own namespace (its webhook certificate), Leases only of
// its own namespace and its own lease to write, and of the cluster's webhook configurations
// only its own two to write (their CA).
func TestTheManagerHoldsNoPermissionBeyondItsRole(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	root, err := simcluster.RepoRoot()
	g.Expect(err).NotTo(HaveOccurred())
	objects, id, err := harness.ManagerRBAC(root)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(id).To(Equal(testEnv.Manager), "the manager runs as config/rbac's service account")
	for _, o := range objects {
		rules, _, _ := unstructured.NestedSlice(o.Object, "rules")
		for _, r := range rules {
			rule, _ := r.(map[string]any)
			for _, key := range []string{"apiGroups", "resources", "verbs", "nonResourceURLs"} {
				values, _, _ := unstructured.NestedStringSlice(rule, key)
				g.Expect(values).NotTo(ContainElement("*"), "%s %s grants %s *", o.GetKind(), o.GetName(), key)
			}
		}
	}

	type access struct {
		verb, group, resource, namespace, name string
	}
	can := func(a access) bool {
		sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
			User: id.UserName(), Groups: id.Groups(),
			ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: a.verb, Group: a.group, Resource: a.resource, Namespace: a.namespace, Name: a.name},
		}}
		g.Expect(k8sClient.Create(ctx, sar)).To(Succeed())
		return sar.Status.Allowed
	}
	for _, a := range []access{
		{verb: "create", resource: "pods", namespace: "any-workspace"},
		{verb: "list", group: "coordination.k8s.io", resource: "leases", namespace: id.Namespace},
		{verb: "update", group: "coordination.k8s.io", resource: "leases", namespace: id.Namespace, name: "manager.dora.dev"},
		{verb: "patch", group: "dora.dev", resource: "nodes"},
		{verb: "create", group: "authentication.k8s.io", resource: "tokenreviews"},
		{verb: "create", group: "authorization.k8s.io", resource: "subjectaccessreviews"},
		{verb: "update", resource: "secrets", namespace: id.Namespace, name: "dora-webhook-server-cert"},
		{verb: "update", group: "admissionregistration.k8s.io", resource: "validatingwebhookconfigurations", name: "dora-validating-webhook-configuration"},
		{verb: "update", group: "admissionregistration.k8s.io", resource: "mutatingwebhookconfigurations", name: "dora-mutating-webhook-configuration"},
	} {
		g.Expect(can(a)).To(BeTrue(), "the manager needs %+v", a)
	}
	for _, a := range []access{
		{verb: "get", resource: "secrets", namespace: "any-workspace"},
		{verb: "list", resource: "secrets"},
		{verb: "update", group: "coordination.k8s.io", resource: "leases", namespace: id.Namespace, name: "someone-elses"},
		{verb: "create", group: "coordination.k8s.io", resource: "leases", namespace: "kube-node-lease"},
		{verb: "delete", resource: "nodes"},
		{verb: "create", resource: "pods/exec", namespace: "any-workspace"},
		{verb: "impersonate", resource: "users"},
		{verb: "update", group: "apiextensions.k8s.io", resource: "customresourcedefinitions"},
		{verb: "update", group: "admissionregistration.k8s.io", resource: "validatingwebhookconfigurations"},
		{verb: "update", group: "admissionregistration.k8s.io", resource: "validatingwebhookconfigurations", name: "someone-elses-policy"},
		{verb: "update", group: "admissionregistration.k8s.io", resource: "mutatingwebhookconfigurations", name: "istio-sidecar-injector"},
		{verb: "delete", group: "admissionregistration.k8s.io", resource: "validatingwebhookconfigurations", name: "dora-validating-webhook-configuration"},
		{verb: "create", resource: "serviceaccounts/token", namespace: id.Namespace},
		// Leases outside its namespace: the agents' heartbeats are read there only.
		{verb: "list", group: "coordination.k8s.io", resource: "leases"},
		{verb: "get", group: "coordination.k8s.io", resource: "leases", namespace: "kube-node-lease"},
	} {
		g.Expect(can(a)).To(BeFalse(), "the manager must not hold %+v", a)
	}
}

// The manager's metrics are served over HTTPS to callers the API server authenticates and
// authorizes for get on /metrics (config/rbac/metrics_reader_role.yaml): nobody else.
func TestMetricsAreServedOnlyToAuthorizedReaders(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	const ns = "e2e-metrics"
	newNamespace(t, ns)
	clientset, err := kubernetes.NewForConfig(testEnv.Cluster.Config)
	g.Expect(err).NotTo(HaveOccurred())
	token := func(name string) string {
		sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
		g.Expect(k8sClient.Create(ctx, sa)).To(Succeed())
		tr, err := clientset.CoreV1().ServiceAccounts(ns).CreateToken(ctx, name, &authenticationv1.TokenRequest{}, metav1.CreateOptions{})
		g.Expect(err).NotTo(HaveOccurred())
		return tr.Status.Token
	}
	reader, stranger := token("prometheus"), token("stranger")
	root, err := simcluster.RepoRoot()
	g.Expect(err).NotTo(HaveOccurred())
	objects, _, err := harness.ManagerRBAC(root)
	g.Expect(err).NotTo(HaveOccurred())
	i := slices.IndexFunc(objects, func(o *unstructured.Unstructured) bool {
		return o.GetKind() == "ClusterRole" && o.GetName() == "dora-metrics-reader"
	})
	g.Expect(i).NotTo(Equal(-1), "config/rbac should have the ClusterRole metrics-reader")
	binding := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "e2e-metrics-reader"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: objects[i].GetName()},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: ns, Name: "prometheus"}},
	}
	g.Expect(k8sClient.Create(ctx, binding)).To(Succeed())
	t.Cleanup(func() { _ = k8sClient.Delete(ctx, binding) })

	// The certificate is the manager's own self-signed one: this checks who may read, not
	// who serves.
	httpClient := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	get := func(token string) (int, string, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("https://%s/metrics", testEnv.MetricsAddr), nil)
		if err != nil {
			return 0, "", err
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := httpClient.Do(req)
		if err != nil {
			return 0, "", err
		}
		defer func() { _ = resp.Body.Close() }()
		body, err := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body), err
	}
	g.Eventually(func(g Gomega) {
		code, _, err := get("")
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(code).To(Equal(http.StatusUnauthorized))
	}).WithTimeout(30*time.Second).Should(Succeed(), "no token, no metrics")
	code, _, err := get(stranger)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(code).To(Equal(http.StatusForbidden), "a service account without the role gets no metrics")
	g.Eventually(func(g Gomega) {
		code, body, err := get(reader)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(code).To(Equal(http.StatusOK))
		g.Expect(body).To(ContainSubstring("controller_runtime_reconcile_total"))
	}).WithTimeout(30*time.Second).Should(Succeed(), "the metrics reader gets the metrics")
}
