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
	gomegatypes "github.com/onsi/gomega/types"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/apiserver/pkg/admission/plugin/policy/validating"
	"k8s.io/apiserver/pkg/cel/openapi/resolver"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/manager"
	"github.com/dora-hpc/dora-operator/internal/podspec"
)

// The tenant of the lockdown, whom plain RBAC lets create pods, claims, PersistentVolumes
// and Dora objects, as a careless grant to a GitOps account would. The manager is the
// harness's: config/rbac's service account, as config/default names it.
const tenantUser = "lockdown.tenant"

// Where: a namespace labelled as a workspace's, and one that is not.
const (
	lockedNS = "lockdown-ws"
	plainNS  = "lockdown-plain"
)

// lockdownScope marks the namespaces this test locks down. The bindings installed here are
// narrowed to them (and, PersistentVolumes being cluster-scoped, to nothing less than every
// PersistentVolume), so that the other tests' workspaces, where the administrator's client
// makes objects of its own, are not judged; the policies themselves are config/tenancy's,
// unchanged.
const lockdownScope = "integration.test/lockdown"

// impersonate acts as user in groups (system:authenticated when none), as kubectl --as
// does.
func impersonate(t *testing.T, user string, groups ...string) client.Client {
	t.Helper()
	cfg := rest.CopyConfig(testEnv.Cluster.Config)
	if len(groups) == 0 {
		groups = []string{"system:authenticated"}
	}
	cfg.Impersonate = rest.ImpersonationConfig{UserName: user, Groups: groups}
	c, err := client.New(cfg, client.Options{Scheme: manager.Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// installTenancy type-checks config/tenancy's policies against the API server's schemas and
// creates them and their bindings with the names config/default gives them, the bindings
// narrowed to lockdownScope. They are removed when the test ends. The API server enforces a
// policy a moment after its creation: refused waits for that.
func installTenancy(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	g := NewWithT(t)
	dir := filepath.Join("..", "..", "config", "tenancy")
	data, err := os.ReadFile(filepath.Join(dir, "kustomization.yaml"))
	g.Expect(err).NotTo(HaveOccurred())
	var kustomization struct {
		Resources []string `json:"resources"`
	}
	g.Expect(yaml.Unmarshal(data, &kustomization)).To(Succeed())
	g.Expect(kustomization.Resources).NotTo(BeEmpty())

	checker := typeChecker(t)
	var objs []client.Object
	for _, file := range kustomization.Resources {
		data, err := os.ReadFile(filepath.Join(dir, file))
		g.Expect(err).NotTo(HaveOccurred())
		docs := strings.Split(string(data), "\n---\n")
		g.Expect(docs).To(HaveLen(2), "%s holds one policy and its binding", file)
		policy := &admissionregistrationv1.ValidatingAdmissionPolicy{}
		binding := &admissionregistrationv1.ValidatingAdmissionPolicyBinding{}
		g.Expect(utilyaml.UnmarshalStrict([]byte(docs[0]), policy)).To(Succeed(), file)
		g.Expect(utilyaml.UnmarshalStrict([]byte(docs[1]), binding)).To(Succeed(), file)
		g.Expect(policy.Kind).To(Equal("ValidatingAdmissionPolicy"), file)
		g.Expect(binding.Kind).To(Equal("ValidatingAdmissionPolicyBinding"), file)
		policy.Name, binding.Name = "dora-"+policy.Name, "dora-"+binding.Name
		g.Expect(binding.Spec.PolicyName).To(Equal(policy.Name), "%s: the binding must name the policy as config/default names it", file)
		if m, ok := policyManager(policy); ok {
			g.Expect(m).To(Equal(testEnv.Manager.UserName()), "%s: variables.manager must name the manager's service account as config/default names it", file)
		}
		g.Expect(typeCheck(checker, policy)).To(BeEmpty(), "%s: every expression must type-check against the schemas of the objects it matches", file)
		binding.Spec.MatchResources = &admissionregistrationv1.MatchResources{
			NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{lockdownScope: "true"}},
		}
		objs = append(objs, policy, binding)
	}
	for _, o := range objs {
		g.Expect(k8sClient.Create(ctx, o)).To(Succeed(), "creating %s", o.GetName())
	}
	t.Cleanup(func() {
		for _, o := range objs {
			_ = k8sClient.Delete(ctx, o)
		}
	})
}

// typeCheck is what the API server's status controller reports in a policy's
// status.typeChecking, and the same of its variables, which it does not check.
func typeCheck(checker *validating.TypeChecker, policy *admissionregistrationv1.ValidatingAdmissionPolicy) []string {
	ctx := checker.CreateContext(policy)
	var problems []string
	check := func(where, expression string) {
		if results := checker.CheckExpression(ctx, expression); len(results) > 0 {
			problems = append(problems, where+": "+results.String())
		}
	}
	for _, v := range policy.Spec.Variables {
		check("variables."+v.Name, v.Expression)
	}
	for i, v := range policy.Spec.Validations {
		check(fmt.Sprintf("validations[%d].expression", i), v.Expression)
		check(fmt.Sprintf("validations[%d].messageExpression", i), v.MessageExpression)
	}
	return problems
}

// typeChecker checks a policy's expressions against the schemas the API server serves, as
// the API server's own status controller (in kube-controller-manager, which envtest does
// not run) does.
func typeChecker(t *testing.T) *validating.TypeChecker {
	t.Helper()
	dc, err := discovery.NewDiscoveryClientForConfig(testEnv.Cluster.Config)
	if err != nil {
		t.Fatal(err)
	}
	return &validating.TypeChecker{SchemaResolver: &resolver.ClientDiscoveryResolver{Discovery: dc}, RestMapper: k8sClient.RESTMapper()}
}

// policyManager is the username variables.manager of a policy names, if it has one.
func policyManager(p *admissionregistrationv1.ValidatingAdmissionPolicy) (string, bool) {
	for _, v := range p.Spec.Variables {
		if v.Name == "manager" {
			return strings.Trim(v.Expression, "'"), true
		}
	}
	return "", false
}

// setUpLockdown makes the two namespaces and gives the tenant RBAC for everything the test
// tries, so that every refusal is the policies'. The manager keeps config/rbac's
// permissions, which allow what it is tried with.
func setUpLockdown(t *testing.T) (tenant, mgr client.Client) {
	t.Helper()
	ctx := context.Background()
	g := NewWithT(t)
	namespaces := map[string]map[string]string{
		lockedNS: {doradev1.LabelWorkspace: "lockdown.ws", lockdownScope: "true"},
		plainNS:  {lockdownScope: "true"},
	}
	for name, labels := range namespaces {
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}
		if err := k8sClient.Create(ctx, ns); err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatal(err)
		}
	}
	rules := []rbacv1.PolicyRule{
		{APIGroups: []string{""}, Resources: []string{"pods", "persistentvolumeclaims", "persistentvolumes"}, Verbs: []string{"get", "create", "update", "patch", "delete"}},
		{APIGroups: []string{doradev1.GroupVersion.Group}, Resources: []string{"workloads", "volumes"}, Verbs: []string{"get", "create", "update", "patch", "delete"}},
	}
	role := rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "lockdown-everything"}
	objs := []client.Object{
		// A Dora user (with no grants: RBAC below gives them everything), so that the owner
		// webhook stamps what they create.
		&doradev1.User{ObjectMeta: metav1.ObjectMeta{Name: tenantUser}},
		&rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: role.Name}, Rules: rules},
		&rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "lockdown-everything"}, RoleRef: role, Subjects: []rbacv1.Subject{
			{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: tenantUser},
		}},
	}
	for _, o := range objs {
		if err := k8sClient.Create(ctx, o); err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = k8sClient.Delete(ctx, o) })
	}
	tenant = impersonate(t, tenantUser)
	mgr = impersonate(t, testEnv.Manager.UserName(), testEnv.Manager.Groups()...)
	g.Eventually(func() (bool, error) {
		return canI(ctx, tenant, authorizationv1.ResourceAttributes{Resource: "pods", Namespace: lockedNS, Verb: "create"})
	}).WithTimeout(10*time.Second).Should(BeTrue(), "RBAC lets the tenant create pods in %s", lockedNS)
	return tenant, mgr
}

func lockdownPod(namespace, name string, volumes ...corev1.Volume) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox"}}, Volumes: volumes},
	}
}

func lockdownClaim(namespace, name string, labels, annotations map[string]string) *corev1.PersistentVolumeClaim {
	return &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name, Labels: labels, Annotations: annotations},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteMany},
			Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}},
		},
	}
}

func lockdownPV(name string, labels, annotations map[string]string) *corev1.PersistentVolume {
	return &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels, Annotations: annotations},
		Spec: corev1.PersistentVolumeSpec{
			Capacity:               corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")},
			AccessModes:            []corev1.PersistentVolumeAccessMode{corev1.ReadWriteMany},
			PersistentVolumeSource: corev1.PersistentVolumeSource{NFS: &corev1.NFSVolumeSource{Server: "10.0.0.9", Path: "/exports/lockdown"}},
		},
	}
}

var (
	nfsVolume      = corev1.Volume{Name: "export-root", VolumeSource: corev1.VolumeSource{NFS: &corev1.NFSVolumeSource{Server: "10.0.0.9", Path: "/"}}}
	hostPathVolume = corev1.Volume{Name: "node-root", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/"}}}
)

// refused waits until create is refused with a message matching all of want: the first
// refusal of each policy also waits for the API server to start enforcing it.
func refused(g *WithT, what string, create func() error, want ...string) {
	matchers := make([]gomegatypes.GomegaMatcher, 0, len(want))
	for _, w := range want {
		matchers = append(matchers, ContainSubstring(w))
	}
	g.Eventually(create).WithTimeout(30*time.Second).WithPolling(200*time.Millisecond).Should(
		MatchError(And(matchers...)), "%s must be refused, saying %q", what, want)
}

// Workspace namespaces are locked down by config/tenancy's admission policies, whatever
// RBAC allows: only the manager creates pods there, nobody mounts an export or a node
// directly, and only the manager writes Dora's labels and annotations on claims,
// PersistentVolumes, Workloads and Volumes. Namespaces of no workspace are not affected.
func TestWorkspaceNamespacesAreLockedDownWhateverRBACAllows(t *testing.T) {
	tenant, mgr := setUpLockdown(t)
	installTenancy(t)
	ctx := context.Background()

	t.Run("a tenant cannot create a pod, even where RBAC lets them", func(t *testing.T) {
		g := NewWithT(t)
		refused(g, "the tenant's pod", func() error { return tenant.Create(ctx, lockdownPod(lockedNS, "tenant-pod")) },
			"pods in workspace namespace "+lockedNS+" are created only by the Dora manager ("+testEnv.Manager.UserName()+"), not by "+tenantUser,
			"apply a Workload")
	})

	t.Run("a pod with an inline NFS or hostPath volume is refused, even for the manager", func(t *testing.T) {
		g := NewWithT(t)
		refused(g, "the manager's pod with an NFS volume", func() error {
			return mgr.Create(ctx, lockdownPod(lockedNS, "nfs-pod", nfsVolume))
		}, "spec.volumes: export-root: inline nfs and hostPath volumes are not allowed in workspace namespaces", "list a Dora Volume")
		refused(g, "the manager's pod with a hostPath volume", func() error {
			return mgr.Create(ctx, lockdownPod(lockedNS, "hostpath-pod", hostPathVolume))
		}, "spec.volumes: node-root: inline nfs and hostPath volumes are not allowed")
		refused(g, "the manager's pod with both", func() error {
			return mgr.Create(ctx, lockdownPod(lockedNS, "both-pod", nfsVolume, hostPathVolume))
		}, "spec.volumes: export-root, node-root:")
	})

	t.Run("a tenant cannot create a claim with the source-volume annotation or a Dora label", func(t *testing.T) {
		g := NewWithT(t)
		refused(g, "the tenant's claim onto another workspace's volume", func() error {
			return tenant.Create(ctx, lockdownClaim(lockedNS, "sneaky", nil, map[string]string{doradev1.AnnotationSourceVolume: "datasets/imagenet"}))
		}, "metadata.annotations[dora.dev/source-volume]: on a PersistentVolumeClaim in a workspace namespace, the labels and annotations of the dora.dev domain are written only by the Dora manager ("+testEnv.Manager.UserName()+"), not by "+tenantUser,
			"list it (with its workspace) in the spec.volumes of a Workload")
		refused(g, "the tenant's claim posing as a volume's", func() error {
			return tenant.Create(ctx, lockdownClaim(lockedNS, "posing", map[string]string{doradev1.LabelVolume: "home"}, nil))
		}, "metadata.labels[dora.dev/volume]: on a PersistentVolumeClaim")
		g.Expect(tenant.Create(ctx, lockdownClaim(lockedNS, "plain-claim", map[string]string{"app": "scratch"}, map[string]string{"note": "mine"}))).
			To(Succeed(), "a claim without Dora's metadata is not the policy's business")
	})

	t.Run("the manager creates an ordinary pod and a labelled claim, which the tenant cannot relabel", func(t *testing.T) {
		g := NewWithT(t)
		g.Expect(mgr.Create(ctx, lockdownPod(lockedNS, "manager-pod"))).To(Succeed())
		claim := lockdownClaim(lockedNS, "shared.datasets.imagenet", map[string]string{doradev1.LabelVolume: "imagenet"},
			map[string]string{doradev1.AnnotationSourceVolume: "datasets/imagenet"})
		g.Expect(mgr.Create(ctx, claim)).To(Succeed())

		mine := &corev1.PersistentVolumeClaim{}
		g.Expect(tenant.Get(ctx, client.ObjectKeyFromObject(claim), mine)).To(Succeed())
		mine.Annotations[doradev1.AnnotationSourceVolume] = "ivan-rossi/private"
		err := tenant.Update(ctx, mine)
		g.Expect(err).To(MatchError(ContainSubstring("metadata.annotations[dora.dev/source-volume]: on a PersistentVolumeClaim")),
			"pointing the manager's claim at another volume")

		g.Expect(tenant.Get(ctx, client.ObjectKeyFromObject(claim), mine)).To(Succeed())
		delete(mine.Labels, doradev1.LabelVolume)
		g.Expect(tenant.Update(ctx, mine)).To(MatchError(ContainSubstring("metadata.labels[dora.dev/volume]: on a PersistentVolumeClaim")),
			"removing the manager's label is a change too")

		g.Expect(tenant.Get(ctx, client.ObjectKeyFromObject(claim), mine)).To(Succeed())
		mine.Labels["app"] = "imagenet"
		g.Expect(tenant.Update(ctx, mine)).To(Succeed(), "the tenant's own labels on the claim are theirs")
	})

	t.Run("only the manager gives a PersistentVolume Dora's labels or annotations", func(t *testing.T) {
		g := NewWithT(t)
		refused(g, "the tenant's PersistentVolume posing as a volume's", func() error {
			return tenant.Create(ctx, lockdownPV("lockdown-tenant-pv", map[string]string{doradev1.LabelVolume: "home"},
				map[string]string{doradev1.AnnotationSourceVolume: "amedeo-setti/home"}))
		}, "on a PersistentVolume, the labels and annotations of the dora.dev domain are written only by the Dora manager ("+testEnv.Manager.UserName()+"), not by "+tenantUser,
			"metadata.labels[dora.dev/volume]", "metadata.annotations[dora.dev/source-volume]", "create a Volume (dora.dev/v1alpha1)")
		g.Expect(tenant.Create(ctx, lockdownPV("lockdown-tenant-plain-pv", nil, nil))).To(Succeed(), "a PersistentVolume without them is not the policy's business")
		g.Expect(mgr.Create(ctx, lockdownPV("lockdown-manager-pv", map[string]string{doradev1.LabelVolume: "home"},
			map[string]string{doradev1.AnnotationSourceVolume: "amedeo-setti/home"}))).To(Succeed())
	})

	t.Run("only the manager writes Dora's labels on Workloads and Volumes; the translator's annotations stay the user's", func(t *testing.T) {
		g := NewWithT(t)
		workload := func(name string, labels, annotations map[string]string) *doradev1.Workload {
			return &doradev1.Workload{
				ObjectMeta: metav1.ObjectMeta{Namespace: lockedNS, Name: name, Labels: labels, Annotations: annotations},
				Spec:       doradev1.WorkloadSpec{Image: doradev1.ImageSpec{Image: "ubuntu"}, Paused: true},
			}
		}
		refused(g, "the tenant's Workload with a Dora label", func() error {
			return tenant.Create(ctx, workload("labelled", map[string]string{podspec.LabelRevision: "0123456789"}, nil))
		}, "metadata.labels[dora.dev/revision]: on a Workload in a workspace namespace, the labels of the dora.dev domain, and its annotations other than dora.dev/name, dora.dev/zone, dora.dev/workspace, dora.dev/owner, are written only by the Dora manager ("+testEnv.Manager.UserName()+"), not by "+tenantUser)
		refused(g, "the tenant's Workload posing as a clone's copy", func() error {
			return tenant.Create(ctx, workload("posing", nil, map[string]string{doradev1.AnnotationClonedFrom: "amedeo-setti/train"}))
		}, "metadata.annotations[dora.dev/cloned-from]: on a Workload")
		refused(g, "the tenant's Volume with a Dora label", func() error {
			return tenant.Create(ctx, &doradev1.Volume{
				ObjectMeta: metav1.ObjectMeta{Namespace: lockedNS, Name: "labelled", Labels: map[string]string{"storage.dora.dev/job": "mkdir"}},
				Spec:       doradev1.VolumeSpec{Storage: "nowhere"},
			})
		}, "metadata.labels[storage.dora.dev/job]: on a Volume")

		translated := workload("blue.red", map[string]string{"team": "ml"}, map[string]string{
			doradev1.AnnotationDoraName: "Blue.Red", doradev1.AnnotationZone: "dc-rov-01", "dora.dev/workspace": "lockdown.ws",
		})
		g.Expect(tenant.Create(ctx, translated)).To(Succeed(), "what kubectl dora apply sends is the user's to send")
		g.Expect(translated.Annotations).To(HaveKeyWithValue(doradev1.AnnotationOwner, tenantUser), "the owner webhook still stamps the owner")
		g.Expect(mgr.Create(ctx, workload("copied", map[string]string{"team": "ml"}, map[string]string{doradev1.AnnotationClonedFrom: "amedeo-setti/copied"}))).
			To(Succeed(), "a clone's copy is the manager's to make")
	})

	t.Run("the manager, running as its service account, creates a Workload's pods", func(t *testing.T) {
		g := NewWithT(t)
		ws := &doradev1.Workspace{ObjectMeta: metav1.ObjectMeta{Name: "lockdown.real"}}
		g.Expect(k8sClient.Create(ctx, ws)).To(Succeed())
		ns := &corev1.Namespace{}
		g.Eventually(func() error { return k8sClient.Get(ctx, client.ObjectKey{Name: "lockdown-real"}, ns) }).
			WithTimeout(30*time.Second).Should(Succeed(), "the workspace controller makes the namespace")
		// Locked down before the Workload exists, so that its pods meet the policies.
		g.Expect(k8sClient.Patch(ctx, ns, client.RawPatch(types.MergePatchType, []byte(`{"metadata":{"labels":{"`+lockdownScope+`":"true"}}}`)))).To(Succeed())
		wl := &doradev1.Workload{
			ObjectMeta: metav1.ObjectMeta{Namespace: "lockdown-real", Name: "train"},
			Spec:       doradev1.WorkloadSpec{Image: doradev1.ImageSpec{Image: "ubuntu"}, Config: &doradev1.ContainerConfig{Cmd: doradev1.NewString("sleep infinity")}},
		}
		g.Expect(k8sClient.Create(ctx, wl)).To(Succeed())
		g.Eventually(func() error {
			return k8sClient.Get(ctx, client.ObjectKey{Namespace: "lockdown-real", Name: "train-0"}, &corev1.Pod{})
		}).WithTimeout(30*time.Second).Should(Succeed(), "the manager's pod passes the policies and the namespace's Pod Security level")
	})

	t.Run("namespaces without the workspace label are not affected", func(t *testing.T) {
		g := NewWithT(t)
		g.Expect(tenant.Create(ctx, lockdownPod(plainNS, "tenant-pod"))).To(Succeed())
		g.Expect(tenant.Create(ctx, lockdownPod(plainNS, "nfs-pod", nfsVolume))).To(Succeed())
		g.Expect(tenant.Create(ctx, lockdownClaim(plainNS, "annotated", map[string]string{doradev1.LabelVolume: "home"},
			map[string]string{doradev1.AnnotationSourceVolume: "datasets/imagenet"}))).To(Succeed())
	})
}

// The pods the manager builds pass the Pod Security level the workspace controller puts on
// the workspace's namespace: baseline by default, restricted when the workspace asks for
// it. A pod on the host network is admitted only in a privileged workspace, and the
// Workspace schema makes allowHostNetwork need one.
func TestTheManagersPodsPassTheirWorkspacesPodSecurityLevel(t *testing.T) {
	ctx := context.Background()
	g := NewWithT(t)
	_, mgr := setUpLockdown(t)

	ws := &doradev1.Workspace{ObjectMeta: metav1.ObjectMeta{Name: "lockdown.psa"}}
	g.Expect(k8sClient.Create(ctx, ws)).To(Succeed())
	g.Expect(ws.Spec.PodSecurity).To(Equal(doradev1.PodSecurityBaseline), "the API server fills in the default")
	namespace := "lockdown-psa"
	levelIs := func(level string) {
		t.Helper()
		g.Eventually(func(g Gomega) {
			ns := &corev1.Namespace{}
			g.Expect(k8sClient.Get(ctx, client.ObjectKey{Name: namespace}, ns)).To(Succeed())
			for _, mode := range []string{"enforce", "audit", "warn"} {
				g.Expect(ns.Labels).To(HaveKeyWithValue("pod-security.kubernetes.io/"+mode, level))
			}
			g.Expect(ns.Labels).To(HaveKeyWithValue(doradev1.LabelWorkspace, "lockdown.psa"))
		}).WithTimeout(30*time.Second).Should(Succeed(), "namespace %s enforces %s", namespace, level)
	}
	setLevel := func(level string, hostNetwork bool) {
		t.Helper()
		g.Eventually(func() error {
			current := &doradev1.Workspace{}
			if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(ws), current); err != nil {
				return err
			}
			current.Spec.PodSecurity, current.Spec.AllowHostNetwork = level, hostNetwork
			return k8sClient.Update(ctx, current)
		}).WithTimeout(10 * time.Second).Should(Succeed())
		levelIs(level)
	}
	seed := func(name string) *doradev1.Workload {
		return &doradev1.Workload{
			ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
			Spec: doradev1.WorkloadSpec{
				Image:     doradev1.ImageSpec{Image: "ubuntu", PullPolicy: "Always"},
				Config:    &doradev1.ContainerConfig{Cmd: doradev1.NewString("/bin/bash"), ShmSize: ptr.To[int64](1 << 30)},
				Network:   &doradev1.NetworkSpec{Ports: []doradev1.PortSpec{{Name: "first", Port: 8008, NodePort: 25000}}},
				Selectors: doradev1.Selectors{GPU: &doradev1.GPUSelector{Count: ptr.To(intstr.FromInt32(2))}},
			},
		}
	}
	hostNet := func(name string) *doradev1.Workload {
		wl := seed(name)
		wl.Spec.Network.Mode = doradev1.NetworkModeHost
		return wl
	}
	build := func(wl *doradev1.Workload, level string) *corev1.Pod {
		t.Helper()
		pod, err := podspec.BuildPod(wl, 0, podspec.PodInputs{PodSecurity: level})
		g.Expect(err).NotTo(HaveOccurred())
		return pod
	}

	levelIs(doradev1.PodSecurityBaseline)
	g.Expect(mgr.Create(ctx, build(seed("baseline"), ""))).To(Succeed(), "a workload pod passes baseline")
	err := mgr.Create(ctx, build(hostNet("baseline-host"), ""))
	g.Expect(err).To(MatchError(And(ContainSubstring(`violates PodSecurity "baseline:latest"`), ContainSubstring("hostNetwork=true"))),
		"the host network is outside baseline")

	err = k8sClient.Update(ctx, func() *doradev1.Workspace {
		current := &doradev1.Workspace{}
		g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(ws), current)).To(Succeed())
		current.Spec.AllowHostNetwork = true
		return current
	}())
	g.Expect(err).To(MatchError(ContainSubstring("spec.allowHostNetwork needs spec.podSecurity: privileged")),
		"host networking in a workspace that enforces baseline is refused where it is asked for")

	setLevel(doradev1.PodSecurityRestricted, false)
	g.Expect(mgr.Create(ctx, build(seed("restricted"), doradev1.PodSecurityRestricted))).To(Succeed(), "a restricted workspace's pod passes restricted")
	err = mgr.Create(ctx, build(seed("restricted-as-baseline"), ""))
	g.Expect(err).To(MatchError(ContainSubstring(`violates PodSecurity "restricted:latest"`)),
		"a pod built for baseline does not pass restricted: the builder must be told the level")

	setLevel(doradev1.PodSecurityPrivileged, true)
	g.Expect(mgr.Create(ctx, build(hostNet("privileged-host"), doradev1.PodSecurityPrivileged))).To(Succeed(),
		"a privileged workspace admits the host network")
}
