package integration

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/dora-hpc/dora-operator/internal/manager"
)

const agentUser = "system:serviceaccount:dora-system:dora-node-agent"

// agentClient acts as the node agent's service account on node, as its bound token would.
func agentClient(t *testing.T, node string) client.Client {
	t.Helper()
	cfg := rest.CopyConfig(testEnv.Cluster.Config)
	cfg.Impersonate = rest.ImpersonationConfig{
		UserName: agentUser,
		Groups:   []string{"system:serviceaccounts", "system:serviceaccounts:dora-system", "system:authenticated"},
		Extra:    map[string][]string{"authentication.kubernetes.io/node-name": {node}},
	}
	c, err := client.New(cfg, client.Options{Scheme: manager.Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// installAgentAccess installs config/agent's RBAC and admission policy, with the names
// config/default gives them.
func installAgentAccess(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	g := NewWithT(t)
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "dora-system"}}
	if err := k8sClient.Create(ctx, ns); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	subject := []rbacv1.Subject{{Kind: "ServiceAccount", Name: "dora-node-agent", Namespace: "dora-system"}}
	objs := []client.Object{
		&rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "dora-node-agent"}, Rules: []rbacv1.PolicyRule{
			{APIGroups: []string{""}, Resources: []string{"nodes"}, Verbs: []string{"get", "patch"}},
			{APIGroups: []string{"dora.dev"}, Resources: []string{"nodes/status"}, Verbs: []string{"get", "patch"}},
		}},
		&rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "dora-node-agent"}, Subjects: subject,
			RoleRef: rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "dora-node-agent"}},
		&rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "dora-node-agent-lease", Namespace: "dora-system"}, Rules: []rbacv1.PolicyRule{
			{APIGroups: []string{"coordination.k8s.io"}, Resources: []string{"leases"}, Verbs: []string{"get", "create", "update"}},
		}},
		&rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "dora-node-agent-lease", Namespace: "dora-system"}, Subjects: subject,
			RoleRef: rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: "dora-node-agent-lease"}},
	}
	// The policy and its binding come from the manifests themselves.
	data, err := os.ReadFile("../../config/agent/admission_policy.yaml")
	g.Expect(err).NotTo(HaveOccurred())
	docs := strings.Split(string(data), "\n---\n")
	policy := &admissionregistrationv1.ValidatingAdmissionPolicy{}
	binding := &admissionregistrationv1.ValidatingAdmissionPolicyBinding{}
	g.Expect(utilyaml.Unmarshal([]byte(docs[0]), policy)).To(Succeed())
	g.Expect(utilyaml.Unmarshal([]byte(docs[1]), binding)).To(Succeed())
	policy.Name, binding.Name = "dora-node-agent-own-node", "dora-node-agent-own-node"
	g.Expect(binding.Spec.PolicyName).To(Equal(policy.Name), "the binding must name the policy as config/default names it")
	objs = append(objs, policy, binding)
	for _, o := range objs {
		if err := k8sClient.Create(ctx, o); err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatal(err)
		}
	}
}

// The node agent can change its own node's labels and Lease, and nobody else's.
func TestAgentMayChangeOnlyItsOwnNode(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	installAgentAccess(t)
	for _, name := range []string{"vap-a", "vap-b"} {
		g.Expect(k8sClient.Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}})).To(Succeed())
	}
	agentA := agentClient(t, "vap-a")
	label := func(node string) error {
		patch := client.RawPatch(types.MergePatchType, []byte(`{"metadata":{"labels":{"gpu.dora.dev/Tesla-V100-SXM2-16GB":"8"}}}`))
		return agentA.Patch(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: node}}, patch)
	}

	// The policy takes a moment to be loaded by the API server.
	g.Eventually(func() error { return label("vap-b") }).WithTimeout(30*time.Second).Should(
		MatchError(ContainSubstring("the node agent of vap-a may change only its own node, not vap-b")),
		"labelling another node must be refused")
	g.Expect(label("vap-a")).To(Succeed(), "labelling its own node is allowed")

	lease := func(node string) *coordinationv1.Lease {
		return &coordinationv1.Lease{
			ObjectMeta: metav1.ObjectMeta{Namespace: "dora-system", Name: "dora-agent-" + node},
			Spec:       coordinationv1.LeaseSpec{HolderIdentity: ptr.To(node)},
		}
	}
	g.Expect(agentA.Create(ctx, lease("vap-a"))).To(Succeed())
	err := agentA.Create(ctx, lease("vap-b"))
	g.Expect(err).To(MatchError(ContainSubstring("may change only its own node")))

	// A token bound to no node (not the DaemonSet pod's) may change no node at all.
	unbound := rest.CopyConfig(testEnv.Cluster.Config)
	unbound.Impersonate = rest.ImpersonationConfig{UserName: agentUser,
		Groups: []string{"system:serviceaccounts", "system:serviceaccounts:dora-system", "system:authenticated"}}
	nowhere, err := client.New(unbound, client.Options{Scheme: manager.Scheme()})
	g.Expect(err).NotTo(HaveOccurred())
	err = nowhere.Patch(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "vap-a"}},
		client.RawPatch(types.MergePatchType, []byte(`{"metadata":{"labels":{"gpu.dora.dev/x":"1"}}}`)))
	g.Expect(err).To(MatchError(ContainSubstring("its token names none")), "an agent token bound to no node is refused with the policy's message")

	// RBAC keeps it away from everything else.
	err = agentA.Delete(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "vap-a"}})
	g.Expect(apierrors.IsForbidden(err)).To(BeTrue(), "deleting a node must be forbidden: %v", err)
}
