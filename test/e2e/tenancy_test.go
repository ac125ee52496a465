package e2e

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/manager"
	"github.com/dora-hpc/dora-operator/internal/podspec"
)

// tenants sets up two researchers with the seed's user role on their own workspaces, a
// shared datasets workspace whose volumes only the first was granted, and a volume in each.
// The role also lets them create workspaces (to try clones) but pause only their own
// workloads: it is the seed's role, minus Resume, plus Workspace Apply on every workspace.
type tenants struct {
	a, b       client.Client
	nsA, nsB   string
	datasetsNS string
}

func as(t *testing.T, user string) client.Client {
	t.Helper()
	cfg := rest.CopyConfig(testEnv.Cluster.Config)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: user, Groups: []string{"system:authenticated"}}
	c, err := client.New(cfg, client.Options{Scheme: manager.Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func setUpTenants(t *testing.T) tenants {
	t.Helper()
	g := NewWithT(t)
	ctx := context.Background()
	create := func(obj client.Object) {
		t.Helper()
		g.Expect(k8sClient.Create(ctx, obj)).To(Succeed())
		t.Cleanup(func() { _ = k8sClient.Delete(ctx, obj) })
	}
	tn := tenants{nsA: workspace(t, "tenant.a"), nsB: workspace(t, "tenant.b"), datasetsNS: workspace(t, "tenant.datasets")}
	create(&doradev1.Role{ObjectMeta: metav1.ObjectMeta{Name: "researcher"}, Spec: doradev1.RoleSpec{Permission: map[string][]string{
		"Workload":  {"Apply", "Delete", "Get", "Describe", "Pause", "Event", "Version"},
		"Container": {"Delete", "Get", "Describe", "Shell", "Log", "Event"},
		"Volume":    {"Get", "Describe", "Use", "Upload", "Download", "Ls", "Sync"},
		"Storage":   {"Get"},
	}}})
	create(&doradev1.Role{ObjectMeta: metav1.ObjectMeta{Name: "workspace-maker"}, Spec: doradev1.RoleSpec{Permission: map[string][]string{
		"Workspace": {"Apply", "Get"},
	}}})
	create(&doradev1.Role{ObjectMeta: metav1.ObjectMeta{Name: "cloner"}, Spec: doradev1.RoleSpec{Permission: map[string][]string{
		"Workspace": {"Clone"},
	}}})
	grants := func(own string, extra ...doradev1.RoleBinding) []doradev1.RoleBinding {
		return append([]doradev1.RoleBinding{
			{Kind: "All", Zone: "All", Workspace: own, Role: "researcher"},
			{Kind: "Workspace", Zone: "All", Workspace: own, Role: "cloner"},
			{Kind: "Workspace", Zone: "All", Workspace: "All", Role: "workspace-maker"},
		}, extra...)
	}
	create(&doradev1.User{ObjectMeta: metav1.ObjectMeta{Name: "tenant.a"}, Spec: doradev1.UserSpec{Resources: grants("tenant.a",
		doradev1.RoleBinding{Kind: "Volume", Zone: "All", Workspace: "tenant.datasets", Role: "researcher"})}})
	create(&doradev1.User{ObjectMeta: metav1.ObjectMeta{Name: "tenant.b"}, Spec: doradev1.UserSpec{Resources: grants("tenant.b")}})

	nfsStorage(t, "tenancy-nfs", "10.20.30.40", "/tenancy")
	for _, vol := range []*doradev1.Volume{newVolume(tn.nsA, "home", "tenancy-nfs"), newVolume(tn.nsB, "home", "tenancy-nfs"), newVolume(tn.datasetsNS, "imagenet", "tenancy-nfs")} {
		create(vol)
		expectVolumeReady(g, vol, "the tenants' volumes are made by an administrator")
	}
	tn.a, tn.b = as(t, "tenant.a"), as(t, "tenant.b")
	for _, c := range []client.Client{tn.a, tn.b} {
		g.Eventually(func() error {
			return c.List(ctx, &doradev1.WorkloadList{}, client.InNamespace(map[client.Client]string{tn.a: tn.nsA, tn.b: tn.nsB}[c]))
		}).WithTimeout(30*time.Second).Should(Succeed(), "each tenant's bindings are made")
	}
	return tn
}

func tenantWorkload(namespace, name string, volumes ...doradev1.WorkloadVolume) *doradev1.Workload {
	wl := gpuWorkload(namespace, name, 1, 0)
	wl.Spec.Volumes = volumes
	return wl
}

// expectRefused checks that err is the API server's refusal and that its message says each of says.
func expectRefused(g *WithT, err error, says ...string) {
	g.Expect(err).To(HaveOccurred(), "the request should have been refused")
	g.Expect(apierrors.IsForbidden(err) || apierrors.IsInvalid(err)).To(BeTrue(), "refused by the API server: %v", err)
	for _, s := range says {
		g.Expect(err.Error()).To(ContainSubstring(s))
	}
}

// Researchers are hostile to each other: none reaches another's data, pods or workloads,
// whatever they write; each still does everything their roles give them.
func TestATenantReachesOnlyWhatTheirRolesGrant(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	tn := setUpTenants(t)

	t.Run("mounting another tenant's volume is refused at admission, naming the verb", func(t *testing.T) {
		g := NewWithT(t)
		wl := tenantWorkload(tn.nsA, "steal", doradev1.WorkloadVolume{Name: "home", Workspace: "tenant.b", Target: "/b"})
		expectRefused(g, tn.a.Create(ctx, wl), "spec.volumes[0]", "tenant.a may not use volume home of workspace tenant.b", "Dora verb Use on Volume")
	})

	t.Run("the datasets volume the grant names is mounted, read-only", func(t *testing.T) {
		g := NewWithT(t)
		wl := tenantWorkload(tn.nsA, "train", doradev1.WorkloadVolume{Name: "imagenet", Workspace: "tenant.datasets", Target: "/data"})
		g.Expect(tn.a.Create(ctx, wl)).To(Succeed())
		expectPhase(g, wl, doradev1.WorkloadPhaseRunning, "the granted datasets volume is mounted and the pod runs")
		pods := workloadPods(g, wl)
		g.Expect(pods).To(HaveLen(1))
		expectMount(g, &pods[0], "/data", podspec.ClaimName(tn.nsA, wl.Spec.Volumes[0]), true)
	})

	t.Run("the other tenant, not granted datasets, is refused it", func(t *testing.T) {
		g := NewWithT(t)
		wl := tenantWorkload(tn.nsB, "train", doradev1.WorkloadVolume{Name: "imagenet", Workspace: "tenant.datasets", Target: "/data"})
		expectRefused(g, tn.b.Create(ctx, wl), "tenant.b may not use volume imagenet of workspace tenant.datasets")
	})

	t.Run("no tenant creates a pod, even in their own workspace, even one mounting an export", func(t *testing.T) {
		g := NewWithT(t)
		pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: tn.nsA, Name: "root-of-the-export"}, Spec: corev1.PodSpec{
			Containers: []corev1.Container{{Name: "c", Image: "busybox", VolumeMounts: []corev1.VolumeMount{{Name: "all", MountPath: "/all"}}}},
			Volumes:    []corev1.Volume{{Name: "all", VolumeSource: corev1.VolumeSource{NFS: &corev1.NFSVolumeSource{Server: "10.20.30.40", Path: "/tenancy"}}}},
		}}
		expectRefused(g, tn.a.Create(ctx, pod))
		g.Expect(apierrors.IsForbidden(tn.a.Create(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: tn.nsA, Name: "plain"},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox"}}}}))).To(BeTrue(), "not even a plain pod")
	})

	t.Run("no tenant creates a claim that asks for another workspace's volume", func(t *testing.T) {
		g := NewWithT(t)
		claim := &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Namespace: tn.nsA, Name: "b-home",
			Annotations: map[string]string{doradev1.AnnotationSourceVolume: tn.nsB + "/home"}},
			Spec: corev1.PersistentVolumeClaimSpec{AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteMany},
				Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}}}}
		expectRefused(g, tn.a.Create(ctx, claim))
	})

	t.Run("no tenant reads, execs into or deletes another's pods", func(t *testing.T) {
		g := NewWithT(t)
		g.Expect(apierrors.IsForbidden(tn.b.List(ctx, &corev1.PodList{}, client.InNamespace(tn.nsA)))).To(BeTrue())
		g.Expect(apierrors.IsForbidden(tn.b.List(ctx, &doradev1.WorkloadList{}, client.InNamespace(tn.nsA)))).To(BeTrue())
		g.Expect(apierrors.IsForbidden(tn.b.DeleteAllOf(ctx, &corev1.Pod{}, client.InNamespace(tn.nsA)))).To(BeTrue())
	})

	t.Run("cloning an ungranted workspace is refused; one's own is not", func(t *testing.T) {
		g := NewWithT(t)
		theft := &doradev1.Workspace{ObjectMeta: metav1.ObjectMeta{Name: "tenant.b.copy"}, Spec: doradev1.WorkspaceSpec{CloneFrom: "tenant.b"}}
		expectRefused(g, tn.a.Create(ctx, theft), "spec.cloneFrom", "tenant.a may not clone workspace tenant.b", "Workspace: [Clone]")
		own := &doradev1.Workspace{ObjectMeta: metav1.ObjectMeta{Name: "tenant.a.copy"}, Spec: doradev1.WorkspaceSpec{CloneFrom: "tenant.a"}}
		g.Expect(tn.a.Create(ctx, own)).To(Succeed())
		t.Cleanup(func() { _ = k8sClient.Delete(ctx, own) })
		g.Eventually(func(g Gomega) {
			g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(own), own)).To(Succeed())
			g.Expect(own.Annotations[doradev1.AnnotationOwner]).To(Equal("tenant.a"))
		}).WithTimeout(10*time.Second).Should(Succeed(), "the clone is owned by who cloned")
		g.Eventually(func() error {
			return tn.a.List(ctx, &doradev1.WorkloadList{}, client.InNamespace("tenant-a-copy"))
		}).WithTimeout(30*time.Second).Should(Succeed(), "the clone carries its maker's bindings on the source")
		g.Expect(apierrors.IsForbidden(tn.b.List(ctx, &doradev1.WorkloadList{}, client.InNamespace("tenant-a-copy")))).To(BeTrue(), "and nobody else's")
	})

	t.Run("a tenant may not turn on host networking", func(t *testing.T) {
		g := NewWithT(t)
		ws := &doradev1.Workspace{ObjectMeta: metav1.ObjectMeta{Name: "tenant.a.host"}, Spec: doradev1.WorkspaceSpec{AllowHostNetwork: true, PodSecurity: doradev1.PodSecurityPrivileged}}
		expectRefused(g, tn.a.Create(ctx, ws), "spec.allowHostNetwork", "administrator's choice")
	})

	wl := tenantWorkload(tn.nsA, "job")
	g.Expect(tn.a.Create(ctx, wl)).To(Succeed())
	t.Run("the owner is who created it, and cannot be changed", func(t *testing.T) {
		g := NewWithT(t)
		g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(wl), wl)).To(Succeed())
		g.Expect(wl.Annotations).To(HaveKeyWithValue(doradev1.AnnotationOwner, "tenant.a"))
		patch := client.MergeFrom(wl.DeepCopy())
		wl.Annotations[doradev1.AnnotationOwner] = "tenant.b"
		expectRefused(g, tn.a.Patch(ctx, wl, patch), "metadata.annotations[dora.dev/owner]", "assign on users/tenant.b")
		forged := tenantWorkload(tn.nsA, "forged")
		forged.Annotations = map[string]string{doradev1.AnnotationOwner: "tenant.b"}
		expectRefused(g, tn.a.Create(ctx, forged), `owner to "tenant.b"`)
	})

	t.Run("pause is the owner's verb; resume, not in their role, is refused naming it", func(t *testing.T) {
		g := NewWithT(t)
		g.Expect(tn.a.Get(ctx, client.ObjectKeyFromObject(wl), wl)).To(Succeed())
		patch := client.MergeFrom(wl.DeepCopy())
		wl.Spec.Paused = true
		g.Expect(tn.a.Patch(ctx, wl, patch)).To(Succeed(), "the researcher role has Pause")
		patch = client.MergeFrom(wl.DeepCopy())
		wl.Spec.Paused = false
		expectRefused(g, tn.a.Patch(ctx, wl, patch), "spec.paused", "tenant.a may not resume workload job", "Workload: [Resume]")
		g.Expect(k8sClient.Patch(ctx, wl, patch)).To(Succeed(), "an administrator may resume it")
	})

	t.Run("a device variable is refused", func(t *testing.T) {
		g := NewWithT(t)
		sneaky := tenantWorkload(tn.nsA, "all-gpus")
		sneaky.Spec.Config.Env = []string{"NVIDIA_VISIBLE_DEVICES=all"}
		expectRefused(g, tn.a.Create(ctx, sneaky), "spec.config.env[0]", "NVIDIA_VISIBLE_DEVICES chooses the devices")
	})
}
