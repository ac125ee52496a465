package integration

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/manager"
)

// The people of the matrix: the seed's user (config/samples: role user on everything in
// their workspace, on volumes in datasets), a second user with only their own workspace,
// and an administrator (a role with All: [All], on every workspace).
const (
	seedUser   = "amedeo.setti"
	secondUser = "ivan.rossi"
	adminUser  = "ada.admin"
)

// Where a request goes: a workspace namespace, or (for cluster-scoped kinds) the object's name.
const (
	ownNS      = "amedeo-setti"
	datasetsNS = "datasets"
	secondNS   = "ivan-rossi"
)

// asUser acts as the Kubernetes user the authenticator names for Dora user name (the
// integration manager runs with no --username-prefix), as kubectl --as does.
func asUser(t *testing.T, name string) client.Client {
	t.Helper()
	cfg := rest.CopyConfig(testEnv.Cluster.Config)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: name, Groups: []string{"system:authenticated"}}
	c, err := client.New(cfg, client.Options{Scheme: manager.Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// doraRequest is how the test asks "may they <verb> a <kind>?": the Kubernetes request
// each Dora verb stands for (verb names: internal/rbac/verbs.go).
func doraRequest(kind, verb, where string) authorizationv1.ResourceAttributes {
	ra := authorizationv1.ResourceAttributes{Group: doradev1.GroupVersion.Group}
	k8sVerb := map[string]string{"Apply": "create", "Delete": "delete", "Get": "list", "GetOne": "get", "Describe": "get",
		"Pause": "pause", "Resume": "resume", "Use": "use", "Clone": "clone", "Upload": "upload", "Download": "download",
		"Ls": "ls", "Sync": "sync", "Credits": "credits"}[verb]
	ra.Verb = k8sVerb
	switch kind {
	case "Workload":
		ra.Resource, ra.Namespace = "workloads", where
		switch verb {
		case "Version":
			ra.Group, ra.Resource, ra.Verb = "apps", "controllerrevisions", "list"
		case "Event":
			ra.Group, ra.Resource, ra.Verb = "", "events", "list"
		}
	case "Container":
		ra.Group, ra.Resource, ra.Namespace = "", "pods", where
		switch verb {
		case "Log":
			ra.Subresource, ra.Verb, ra.Name = "log", "get", "blue.red-0"
		case "Shell":
			ra.Subresource, ra.Verb, ra.Name = "exec", "create", "blue.red-0"
		}
	case "Volume":
		ra.Resource, ra.Namespace, ra.Name = "volumes", where, "home"
		if verb == "Get" {
			ra.Name = ""
		}
	case "Workspace":
		ra.Resource, ra.Name = "workspaces", where
	case "Storage", "Resourcecredit", "Role", "Zone":
		ra.Resource = strings.ToLower(kind) + "s"
	case "GPU", "CPU", "Node":
		ra.Resource = "nodes"
	case "Usercredit":
		ra.Resource, ra.Name = "usercredits", where
	case "User":
		ra.Resource, ra.Name, ra.Verb = "users", where, map[string]string{"Get": "get", "Credits": "credits"}[verb]
	}
	return ra
}

// canI asks as the user, the way `kubectl auth can-i --as` does.
func canI(ctx context.Context, c client.Client, ra authorizationv1.ResourceAttributes) (bool, error) {
	review := &authorizationv1.SelfSubjectAccessReview{Spec: authorizationv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &ra}}
	if err := c.Create(ctx, review); err != nil {
		return false, err
	}
	return review.Status.Allowed, nil
}

// The permission matrix, readable as the specification: what each person may do with each
// Dora verb on each kind, in their own workspace, a workspace they were granted part of, and
// one they were not. For cluster-scoped kinds "where" is the object's name, or "" for any.
var permissionMatrix = []struct {
	user, kind, verb, where string
	allowed                 bool
}{
	// The seed's user in their own workspace: everything the user role lists.
	{seedUser, "Workload", "Apply", ownNS, true},
	{seedUser, "Workload", "Delete", ownNS, true},
	{seedUser, "Workload", "Get", ownNS, true},
	{seedUser, "Workload", "Pause", ownNS, true},
	{seedUser, "Workload", "Resume", ownNS, true},
	{seedUser, "Workload", "Version", ownNS, true},
	{seedUser, "Workload", "Event", ownNS, true},
	{seedUser, "Container", "Get", ownNS, true},
	{seedUser, "Container", "Delete", ownNS, true},
	{seedUser, "Container", "Log", ownNS, true},
	{seedUser, "Container", "Shell", ownNS, true},
	{seedUser, "Volume", "Get", ownNS, true},
	{seedUser, "Volume", "Use", ownNS, true},
	{seedUser, "Volume", "Upload", ownNS, true},
	{seedUser, "Volume", "Download", ownNS, true},
	{seedUser, "Volume", "Ls", ownNS, true},
	{seedUser, "Volume", "Sync", ownNS, true},
	// ... but not what it does not list: the manager makes pods, and volumes are an admin's.
	{seedUser, "Container", "Apply", ownNS, false},
	{seedUser, "Volume", "Apply", ownNS, false},
	{seedUser, "Volume", "Delete", ownNS, false},
	// In datasets, granted for volumes only.
	{seedUser, "Volume", "Get", datasetsNS, true},
	{seedUser, "Volume", "Use", datasetsNS, true},
	{seedUser, "Volume", "Download", datasetsNS, true},
	{seedUser, "Workload", "Apply", datasetsNS, false},
	{seedUser, "Workload", "Get", datasetsNS, false},
	{seedUser, "Container", "Shell", datasetsNS, false},
	// In someone else's workspace: nothing.
	{seedUser, "Workload", "Apply", secondNS, false},
	{seedUser, "Workload", "Get", secondNS, false},
	{seedUser, "Workload", "Pause", secondNS, false},
	{seedUser, "Container", "Get", secondNS, false},
	{seedUser, "Container", "Log", secondNS, false},
	{seedUser, "Container", "Shell", secondNS, false},
	{seedUser, "Container", "Delete", secondNS, false},
	{seedUser, "Volume", "Get", secondNS, false},
	{seedUser, "Volume", "Use", secondNS, false},
	{seedUser, "Volume", "Download", secondNS, false},
	// Workspaces: clone only the one the grant names.
	{seedUser, "Workspace", "Clone", seedUser, true},
	{seedUser, "Workspace", "Clone", "datasets", false},
	{seedUser, "Workspace", "Clone", secondUser, false},
	// Cluster-wide views the user role lists, and nothing it does not.
	{seedUser, "Storage", "Get", "", true},
	{seedUser, "Storage", "Apply", "", false},
	{seedUser, "GPU", "Get", "", true},
	{seedUser, "CPU", "Get", "", true},
	{seedUser, "Node", "Apply", "", false},
	{seedUser, "Resourcecredit", "Get", "", true},
	{seedUser, "Resourcecredit", "Apply", "", false},
	{seedUser, "Role", "Apply", "", false},
	{seedUser, "Zone", "Apply", "", false},
	// Their own credits and User, nobody else's.
	{seedUser, "Usercredit", "GetOne", seedUser, true},
	{seedUser, "Usercredit", "GetOne", secondUser, false},
	{seedUser, "Usercredit", "Get", "", false},
	{seedUser, "User", "Credits", seedUser, true},
	{seedUser, "User", "Credits", secondUser, false},
	{seedUser, "User", "Get", seedUser, true},
	{seedUser, "User", "Get", secondUser, false},

	// The second user: their own workspace only.
	{secondUser, "Workload", "Apply", secondNS, true},
	{secondUser, "Container", "Shell", secondNS, true},
	{secondUser, "Workload", "Apply", ownNS, false},
	{secondUser, "Workload", "Get", ownNS, false},
	{secondUser, "Volume", "Use", datasetsNS, false},
	{secondUser, "Volume", "Get", datasetsNS, false},
	{secondUser, "Workspace", "Clone", seedUser, false},
	{secondUser, "Usercredit", "GetOne", seedUser, false},
	{secondUser, "User", "Get", seedUser, false},

	// The administrator: everything, everywhere.
	{adminUser, "Workload", "Apply", ownNS, true},
	{adminUser, "Workload", "Pause", secondNS, true},
	{adminUser, "Container", "Shell", datasetsNS, true},
	{adminUser, "Volume", "Apply", datasetsNS, true},
	{adminUser, "Workspace", "Clone", secondUser, true},
	{adminUser, "Storage", "Apply", "", true},
	{adminUser, "Resourcecredit", "Apply", "", true},
	{adminUser, "Usercredit", "Get", "", true},
	{adminUser, "Role", "Apply", "", true},
}

// readSample decodes the documents of a file in config/samples.
func readSample(t *testing.T, file string, into ...client.Object) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "config", "samples", file))
	if err != nil {
		t.Fatal(err)
	}
	docs := strings.Split(string(data), "\n---\n")
	for i, obj := range into {
		if err := yaml.UnmarshalStrict([]byte(docs[i]), obj); err != nil {
			t.Fatalf("%s document %d: %v", file, i, err)
		}
	}
}

// Dora's Roles and Users are enforced by the API server itself: every cell of the matrix
// holds through kubectl auth can-i semantics (SelfSubjectAccessReview as the user), and a
// sample of real requests made as the users is allowed or refused accordingly.
func TestPermissionMatrix(t *testing.T) {
	ctx := context.Background()
	g := NewWithT(t)

	role, seed, own, datasets := &doradev1.Role{}, &doradev1.User{}, &doradev1.Workspace{}, &doradev1.Workspace{}
	readSample(t, "dora_v1alpha1_role.yaml", role)
	readSample(t, "dora_v1alpha1_user.yaml", seed)
	readSample(t, "dora_v1alpha1_workspace.yaml", own, datasets)
	objs := []client.Object{role, seed, own, datasets,
		&doradev1.Workspace{ObjectMeta: metav1.ObjectMeta{Name: secondUser}},
		&doradev1.User{ObjectMeta: metav1.ObjectMeta{Name: secondUser}, Spec: doradev1.UserSpec{Resources: []doradev1.RoleBinding{
			{Kind: "All", Zone: "All", Workspace: secondUser, Role: "user"}}}},
		&doradev1.Role{ObjectMeta: metav1.ObjectMeta{Name: "admin"}, Spec: doradev1.RoleSpec{Permission: map[string][]string{"All": {"All"}}}},
		&doradev1.User{ObjectMeta: metav1.ObjectMeta{Name: adminUser}, Spec: doradev1.UserSpec{Resources: []doradev1.RoleBinding{
			{Kind: "All", Zone: "All", Workspace: "All", Role: "admin"}}}},
	}
	for _, obj := range objs {
		if err := k8sClient.Create(ctx, obj); err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatalf("creating %s: %v", obj.GetName(), err)
		}
	}
	// The seed's objects stay for the tests after this one (samples_test applies them too).

	for _, name := range []string{seedUser, secondUser, adminUser} {
		g.Eventually(func(g Gomega) {
			u := &doradev1.User{}
			g.Expect(k8sClient.Get(ctx, client.ObjectKey{Name: name}, u)).To(Succeed())
			c := meta.FindStatusCondition(u.Status.Conditions, doradev1.ConditionReady)
			g.Expect(c).NotTo(BeNil(), "user %s has no Ready condition yet", name)
			g.Expect(c.Status).To(Equal(metav1.ConditionTrue), "user %s: %s", name, c.Message)
			g.Expect(u.Status.ObservedGeneration).To(Equal(u.Generation))
		}, 30*time.Second, 200*time.Millisecond).Should(Succeed(), "every user's grants are bound once their roles and workspaces exist")
	}
	// The admin's workspace All reaches every workspace's namespace, the second user's too.
	g.Eventually(func() (bool, error) {
		return canI(ctx, asUser(t, adminUser), doraRequest("Workload", "Pause", secondNS))
	}, 30*time.Second, 200*time.Millisecond).Should(BeTrue(), "the admin's bindings reach workspace %s", secondUser)

	clients := map[string]client.Client{seedUser: asUser(t, seedUser), secondUser: asUser(t, secondUser), adminUser: asUser(t, adminUser)}
	for _, cell := range permissionMatrix {
		name := fmt.Sprintf("%s/%s/%s/%s", cell.user, cell.kind, cell.verb, cell.where)
		t.Run(name, func(t *testing.T) {
			allowed, err := canI(ctx, clients[cell.user], doraRequest(cell.kind, cell.verb, cell.where))
			if err != nil {
				t.Fatal(err)
			}
			if allowed != cell.allowed {
				t.Errorf("%s may %s %s in %q: %v, want %v", cell.user, cell.verb, cell.kind, cell.where, allowed, cell.allowed)
			}
		})
	}

	// Real requests, as the users.
	seedC, secondC := clients[seedUser], clients[secondUser]
	forbidden := func(err error) bool { return apierrors.IsForbidden(err) }
	g.Expect(seedC.List(ctx, &doradev1.WorkloadList{}, client.InNamespace(ownNS))).To(Succeed(), "the seed user lists workloads in their workspace")
	g.Expect(forbidden(seedC.List(ctx, &doradev1.WorkloadList{}, client.InNamespace(secondNS)))).To(BeTrue(), "and not in another's")
	g.Expect(forbidden(seedC.List(ctx, &doradev1.WorkloadList{}))).To(BeTrue(), "nor across all namespaces")
	g.Expect(forbidden(seedC.List(ctx, &corev1.PodList{}, client.InNamespace(secondNS)))).To(BeTrue(), "nor another's pods")
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ownNS, Name: "direct"}, Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox"}}}}
	g.Expect(forbidden(seedC.Create(ctx, pod))).To(BeTrue(), "a tenant never creates a pod, even in their own workspace")
	g.Expect(seedC.List(ctx, &doradev1.StorageList{})).To(Succeed(), "the seed user reads the storages")
	g.Expect(forbidden(seedC.Create(ctx, &doradev1.Storage{ObjectMeta: metav1.ObjectMeta{Name: "mine"},
		Spec: doradev1.StorageSpec{Endpoint: "10.0.0.9", Mountpath: "/x", Kind: "NFS"}}))).To(BeTrue(), "but makes none")
	g.Expect(seedC.Get(ctx, client.ObjectKey{Name: seedUser}, &doradev1.User{})).To(Succeed(), "every user reads their own User")
	g.Expect(forbidden(seedC.Get(ctx, client.ObjectKey{Name: secondUser}, &doradev1.User{}))).To(BeTrue(), "and nobody else's")
	g.Expect(forbidden(seedC.List(ctx, &doradev1.UserCreditList{}))).To(BeTrue(), "nor everyone's credits")
	g.Expect(forbidden(secondC.List(ctx, &doradev1.VolumeList{}, client.InNamespace(datasetsNS)))).To(BeTrue(), "the second user was granted nothing in datasets")
	g.Expect(secondC.List(ctx, &doradev1.WorkloadList{}, client.InNamespace(secondNS))).To(Succeed())
	for _, ns := range []string{ownNS, secondNS, datasetsNS} {
		g.Expect(clients[adminUser].List(ctx, &doradev1.WorkloadList{}, client.InNamespace(ns))).To(Succeed(), "the admin lists workloads in %s", ns)
	}
	g.Expect(forbidden(clients[adminUser].List(ctx, &corev1.SecretList{}, client.InNamespace("kube-system")))).To(BeTrue(),
		"a Dora admin is admin of Dora's workspaces and kinds, not of the cluster")
}
