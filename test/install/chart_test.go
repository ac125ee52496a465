package install

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/manager"
	"github.com/dora-hpc/dora-operator/internal/naming"
	"github.com/dora-hpc/dora-operator/internal/podspec"
	"github.com/dora-hpc/dora-operator/internal/simcluster"
)

// The chart's lifecycle, one step after the other: each needs what the steps before it
// made, so the first failure ends the test.
func TestTheChartInstallsRunsFailsOverUpgradesAndUninstalls(t *testing.T) {
	in := &installation{}
	t.Cleanup(func() { in.teardown(t) })
	steps := []struct {
		name string
		run  func(*testing.T)
	}{
		{"helm install renders the self-managed certificate: an empty Secret, the webhooks on the Service, no CA", in.install},
		{"the Deployment's replicas, as the chart's ServiceAccount, become ready and the agents report", in.startReplicas},
		{"the manager fills the Secret, injects its CA and every replica serves the certificate it signs", in.certificate},
		{"a workspace, a volume and a user's GPU workload run and pause through the webhooks", in.smoke},
		{"a killed leader's replica is failed over: admission goes on, the survivor leads and reconciles", in.failover},
		{"helm upgrade updates a changed CRD and leaves the certificate and the webhooks working", in.upgrade},
		{"helm uninstall keeps the CRDs and the users' objects, and leaves nothing blocking the API", in.uninstall},
	}
	for _, step := range steps {
		if !t.Run(step.name, step.run) {
			t.FailNow()
		}
	}
}

// An install without a zone is refused before anything reaches the cluster, by the chart's
// values schema, with a message that names zone.
func TestAnInstallWithoutAZoneIsRefusedByTheSchema(t *testing.T) {
	g := NewWithT(t)
	out, err := helm(t, "install", "zoneless", chartDir(t), "--namespace", "dora-zoneless", "--create-namespace")
	g.Expect(err).To(HaveOccurred(), "an install without --set zone must fail")
	g.Expect(out).To(ContainSubstring("values don't meet the specifications of the schema"))
	g.Expect(out).To(ContainSubstring("missing property 'zone'"))
	out, err = helm(t, "status", "zoneless", "--namespace", "dora-zoneless")
	g.Expect(err).To(HaveOccurred(), "no release should exist")
	g.Expect(out).To(ContainSubstring("not found"))
}

// installation is what the steps share: the release's objects as the cluster has them, the
// replicas playing the manager's pods, and what users made.
type installation struct {
	spec replicaSpec
	// deployment is the manager's Deployment, as installed.
	deployment *appsv1.Deployment
	// mutating and validating are the webhook configurations the manager keeps.
	mutating, validating string
	managerSA, agentSA   string
	replicas             []*replica
	stopAgents           context.CancelFunc

	// workspaceNS is the smoke workspace's namespace; userObjects are what users made.
	workspaceNS string
	userObjects []client.Object
}

// install runs `helm install` with the chart's defaults and the zone, and checks what the
// self-managed certificate needs: the manager's arguments name the Secret, the Service and
// the configurations; the Secret is created empty and mounted where the manager looks; the
// webhooks call the Service and carry no CA yet. Nothing runs the Deployment's pods here:
// the replicas of the next step are the only manager.
func (in *installation) install(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	_, err := helm(t, "install", release, chartDir(t), "--namespace", namespace, "--create-namespace", "--set", "zone="+zone)
	g.Expect(err).NotTo(HaveOccurred(), "helm install should succeed")

	in.deployment = onlyOne(g, &appsv1.DeploymentList{}, "manager").(*appsv1.Deployment)
	pod := in.deployment.Spec.Template.Spec
	g.Expect(pod.Containers).To(HaveLen(1))
	container := pod.Containers[0]
	in.managerSA = pod.ServiceAccountName
	in.agentSA = onlyOne(g, &appsv1.DaemonSetList{}, "node-agent").(*appsv1.DaemonSet).Spec.Template.Spec.ServiceAccountName
	g.Expect(in.managerSA).NotTo(BeEmpty())
	g.Expect(in.agentSA).NotTo(BeEmpty())

	args := container.Args
	g.Expect(args).To(ContainElements("--leader-elect", "--zone="+zone, "--namespace="+namespace, "--agent-namespace="+namespace))
	arg := func(name string) string {
		v, ok := flagValue(args, name)
		g.Expect(ok).To(BeTrue(), "the manager's arguments should have --%s: %v", name, args)
		g.Expect(v).NotTo(BeEmpty(), "--%s", name)
		return v
	}
	secretName, serviceName := arg("webhook-cert-secret"), arg("webhook-service")
	in.mutating, in.validating = arg("webhook-mutating-configurations"), arg("webhook-validating-configurations")

	secret := &corev1.Secret{}
	g.Expect(admin.Get(ctx, client.ObjectKey{Namespace: namespace, Name: secretName}, secret)).To(Succeed(), "the chart creates the certificate's Secret")
	g.Expect(secret.Data).To(BeEmpty(), "the chart leaves the Secret empty: the manager fills it")
	certDir := arg("webhook-cert-dir")
	g.Expect(mountedSecret(pod, container, certDir)).To(Equal(secretName), "the Secret should be mounted at --webhook-cert-dir")

	svc := &corev1.Service{}
	g.Expect(admin.Get(ctx, client.ObjectKey{Namespace: namespace, Name: serviceName}, svc)).To(Succeed())
	g.Expect(svc.Spec.Ports).To(HaveLen(1))
	g.Expect(svc.Spec.Ports[0].TargetPort).To(Equal(intstr.FromInt32(9443)))
	g.Expect(arg("webhook-port")).To(Equal("9443"), "the Service's target port is the webhook server's")
	for _, hook := range in.webhooks(g) {
		g.Expect(hook.ClientConfig.Service).NotTo(BeNil(), "webhook %s", hook.Name)
		g.Expect(*hook.ClientConfig.Service).To(callsService(namespace, serviceName), "webhook %s should call the Service", hook.Name)
		g.Expect(hook.ClientConfig.CABundle).To(BeEmpty(), "webhook %s: the manager injects the CA, not the chart", hook.Name)
	}

	pods := &corev1.PodList{}
	g.Expect(admin.List(ctx, pods, client.InNamespace(namespace), client.MatchingLabels{"app.kubernetes.io/instance": release})).To(Succeed())
	g.Expect(pods.Items).To(BeEmpty(), "the simulated cluster runs no Deployment or DaemonSet controller: the test's processes are the only replicas")

	env := make([]string, 0, len(container.Env))
	for _, e := range container.Env {
		switch {
		case e.ValueFrom == nil:
			env = append(env, e.Name+"="+e.Value)
		case e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == "metadata.namespace":
			env = append(env, e.Name+"="+namespace)
		default:
			t.Fatalf("the manager's environment variable %s comes from something the test cannot play: %+v", e.Name, e.ValueFrom)
		}
	}
	g.Expect(env).To(ContainElement("POD_NAMESPACE=" + namespace))
	in.spec = replicaSpec{bin: managerBin, args: args, env: env, service: svc,
		secret: client.ObjectKeyFromObject(secret), dir: filepath.Join(workDir, "replicas")}
}

// startReplicas runs the Deployment's spec.replicas as processes, each as the chart's
// manager ServiceAccount (an impersonating kubeconfig: every request the manager makes has
// exactly the chart's permissions), and publishes each in the webhook Service's
// EndpointSlices once its readiness probe passes. It starts the node agents as the chart's
// agent ServiceAccount, each bound to its node as a pod's token is, and checks that they
// report and that the chart's policy keeps each to its own node.
func (in *installation) startReplicas(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	g.Expect(in.deployment.Spec.Replicas).NotTo(BeNil())
	count := int(*in.deployment.Spec.Replicas)
	g.Expect(count).To(BeNumerically(">=", 2), "the chart's default runs two replicas, which failover needs")

	in.spec.kubeconfig = filepath.Join(workDir, "manager.kubeconfig")
	g.Expect(simcluster.ImpersonatingKubeconfig(cluster.Kubeconfig, in.spec.kubeconfig, simcluster.ServiceAccountUser(namespace, in.managerSA))).To(Succeed())
	for i := range count {
		r, err := startReplica(ctx, in.spec, fmt.Sprintf("manager-%d", i))
		g.Expect(err).NotTo(HaveOccurred())
		in.replicas = append(in.replicas, r)
	}
	probe := &doradev1.Storage{ObjectMeta: metav1.ObjectMeta{Name: "probe"}, Spec: doradev1.StorageSpec{Endpoint: "10.30.0.9", Mountpath: "/probe"}}
	err := admin.Create(ctx, probe, client.DryRunAll)
	g.Expect(err).To(HaveOccurred(), "with no replica ready, the webhooks (failurePolicy Fail) refuse")
	g.Expect(err.Error()).To(ContainSubstring(fmt.Sprintf("no endpoints available for service %q", in.spec.service.Name)),
		"the API server resolves the webhook Service through its EndpointSlices")
	for _, r := range in.replicas {
		g.Eventually(func(g Gomega) {
			g.Expect(r.running()).To(BeTrue(), "replica %s exited", r.name)
			g.Expect(r.readyz(ctx)).To(Succeed())
		}).WithTimeout(60*time.Second).WithPolling(250*time.Millisecond).Should(Succeed(),
			"replica %s should become ready once its webhook server serves the certificate from the Secret", r.name)
		g.Expect(r.setReady(ctx, true)).To(Succeed())
	}
	g.Eventually(func() []string { return in.leaders() }).WithTimeout(30*time.Second).Should(HaveLen(1), "one replica should be elected leader")

	agentCtx, stopAgents := context.WithCancel(context.Background())
	in.stopAgents = stopAgents
	g.Expect(simcluster.StartAgentsAs(agentCtx, in.agentClient, fleet, namespace)).To(Succeed())
	for _, node := range fleet.Nodes() {
		g.Eventually(func(g Gomega) {
			lease := &coordinationv1.Lease{}
			g.Expect(admin.Get(ctx, client.ObjectKey{Namespace: namespace, Name: doradev1.AgentLeasePrefix + node.Name}, lease)).To(Succeed())
			dn := &doradev1.Node{}
			g.Expect(admin.Get(ctx, client.ObjectKey{Name: node.Name}, dn)).To(Succeed())
			g.Expect(dn.Status.CPU).NotTo(BeNil())
		}).WithTimeout(60*time.Second).Should(Succeed(), "the agent of %s should keep its Lease and report its Dora Node (made by the manager)", node.Name)
	}
	gpuNodes := fleet[0].NodeNames()
	intruder, err := in.agentClient(gpuNodes[0])
	g.Expect(err).NotTo(HaveOccurred())
	other := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: gpuNodes[1]}}
	err = intruder.Patch(ctx, other, client.RawPatch(types.MergePatchType, []byte(`{"metadata":{"labels":{"dora.dev/forged":"true"}}}`)))
	g.Expect(err).To(HaveOccurred(), "an agent may not change another node")
	g.Expect(err.Error()).To(ContainSubstring(fmt.Sprintf("the node agent of %s may change only its own node, not %s", gpuNodes[0], gpuNodes[1])))
}

// agentClient is the node agent of node as its pod would be: the chart's agent
// ServiceAccount, with the node its token is bound to.
func (in *installation) agentClient(node string) (client.Client, error) {
	cfg := rest.CopyConfig(cluster.Config)
	cfg.Impersonate = simcluster.ServiceAccountUser(namespace, in.agentSA)
	cfg.Impersonate.Extra = map[string][]string{simcluster.NodeNameExtra: {node}}
	return client.New(cfg, client.Options{Scheme: manager.Scheme()})
}

// certificate checks the self-managed certificate: the manager put a CA and a serving
// certificate for <service>.<namespace>.svc in the Secret, injected the CA into every
// webhook of both configurations, and each replica serves that certificate (read from its
// mount), which the injected CA verifies for the Service's name: the API server's check.
func (in *installation) certificate(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	serverName := in.spec.service.Name + "." + namespace + ".svc"
	secret := &corev1.Secret{}
	g.Expect(admin.Get(ctx, in.spec.secret, secret)).To(Succeed())
	g.Expect(secret.Data).To(HaveKey("ca.crt"))
	g.Expect(secret.Data).To(HaveKey("tls.key"))
	ca := secret.Data["ca.crt"]
	leaf := parseCert(g, secret.Data["tls.crt"])
	roots := x509.NewCertPool()
	g.Expect(roots.AppendCertsFromPEM(ca)).To(BeTrue(), "ca.crt should be PEM certificates")
	_, err := leaf.Verify(x509.VerifyOptions{Roots: roots, DNSName: serverName})
	g.Expect(err).NotTo(HaveOccurred(), "the Secret's certificate should be the CA's, for %s", serverName)

	g.Eventually(func(g Gomega) {
		for _, hook := range in.webhooks(g) {
			g.Expect(bytes.Equal(hook.ClientConfig.CABundle, ca)).To(BeTrue(), "webhook %s should carry the Secret's CA", hook.Name)
		}
	}).WithTimeout(30*time.Second).Should(Succeed(), "every replica injects the CA")

	for _, r := range in.replicas {
		conn, err := tls.Dial("tcp", r.webhookAddr, &tls.Config{RootCAs: roots, ServerName: serverName, MinVersion: tls.VersionTLS12})
		g.Expect(err).NotTo(HaveOccurred(), "replica %s's certificate should verify with the injected CA for %s", r.name, serverName)
		served := conn.ConnectionState().PeerCertificates[0]
		g.Expect(conn.Close()).To(Succeed())
		g.Expect(served.Equal(leaf)).To(BeTrue(), "replica %s should serve the Secret's certificate", r.name)
	}
}

// smoke uses the installed operator as its users would, every write of the manager and the
// agents going through the chart's identities: a Workspace gets its namespace; a document of
// another zone is refused with the zone webhook's message (the API server reached a replica
// through the Service's endpoints, and verified its certificate); a Storage's Volume is
// Ready after its helper Job; a Dora user's GPU workload is stamped with its owner by the
// mutating webhook, runs on GPU nodes, and pausing it removes its pods.
func (in *installation) smoke(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	g.Eventually(func() error { return admin.Get(ctx, client.ObjectKey{Name: zone}, &doradev1.Zone{}) }).
		WithTimeout(30*time.Second).Should(Succeed(), "the manager makes the Zone of --zone")

	const workspace, user = "install.smoke", "install.researcher"
	ws := &doradev1.Workspace{ObjectMeta: metav1.ObjectMeta{Name: workspace}}
	g.Expect(admin.Create(ctx, ws)).To(Succeed())
	in.userObjects = append(in.userObjects, ws)
	in.workspaceNS = naming.WorkspaceNamespace(workspace)
	g.Eventually(func() error { return admin.Get(ctx, client.ObjectKey{Name: in.workspaceNS}, &corev1.Namespace{}) }).
		WithTimeout(30*time.Second).Should(Succeed(), "the manager makes the workspace's namespace")

	foreign := gpuWorkload(in.workspaceNS, "foreign", 1, 1)
	foreign.Annotations = map[string]string{doradev1.AnnotationZone: "dc-other-99"}
	err := admin.Create(ctx, foreign)
	g.Expect(err).To(HaveOccurred(), "the zone webhook refuses another zone's document")
	g.Expect(err.Error()).To(ContainSubstring(`written for zone "dc-other-99", and this cluster is zone "` + zone + `"`))

	st := &doradev1.Storage{ObjectMeta: metav1.ObjectMeta{Name: "install-nfs"},
		Spec: doradev1.StorageSpec{Endpoint: "10.30.0.1", Mountpath: "/exports/install"}}
	g.Expect(admin.Create(ctx, st)).To(Succeed())
	vol := &doradev1.Volume{ObjectMeta: metav1.ObjectMeta{Namespace: in.workspaceNS, Name: "home"}, Spec: doradev1.VolumeSpec{Storage: st.Name}}
	g.Expect(admin.Create(ctx, vol)).To(Succeed())
	in.userObjects = append(in.userObjects, st, vol)
	g.Eventually(func(g Gomega) {
		g.Expect(admin.Get(ctx, client.ObjectKeyFromObject(vol), vol)).To(Succeed())
		ready := meta.FindStatusCondition(vol.Status.Conditions, doradev1.ConditionReady)
		g.Expect(ready).NotTo(BeNil())
		g.Expect(ready.Reason).To(Equal(doradev1.ReasonClaimBound), ready.Message)
	}).WithTimeout(90*time.Second).Should(Succeed(), "the volume's directory Job completes and its claim is bound")

	role := &doradev1.Role{ObjectMeta: metav1.ObjectMeta{Name: "install-researcher"}, Spec: doradev1.RoleSpec{Permission: map[string][]string{
		"Workload": {"Apply", "Delete", "Get", "Describe", "Pause", "Event", "Version"},
	}}}
	researcher := &doradev1.User{ObjectMeta: metav1.ObjectMeta{Name: user}, Spec: doradev1.UserSpec{
		Resources: []doradev1.RoleBinding{{Kind: "All", Zone: "All", Workspace: workspace, Role: role.Name}},
	}}
	g.Expect(admin.Create(ctx, role)).To(Succeed())
	g.Expect(admin.Create(ctx, researcher)).To(Succeed())
	asUser := as(t, user)
	g.Eventually(func() error { return asUser.List(ctx, &doradev1.WorkloadList{}, client.InNamespace(in.workspaceNS)) }).
		WithTimeout(30*time.Second).Should(Succeed(), "the manager binds the user's role in the workspace")

	g.Eventually(func(g Gomega) {
		dn := &doradev1.Node{}
		g.Expect(admin.Get(ctx, client.ObjectKey{Name: fleet[0].NodeNames()[0]}, dn)).To(Succeed())
		g.Expect(dn.Status.GPUs).NotTo(BeEmpty())
	}).WithTimeout(30*time.Second).Should(Succeed(), "the GPU nodes' agents report their GPUs")
	wl := gpuWorkload(in.workspaceNS, "train", 2, 4)
	g.Expect(asUser.Create(ctx, wl)).To(Succeed())
	in.userObjects = append(in.userObjects, wl)
	g.Expect(wl.Annotations).To(HaveKeyWithValue(doradev1.AnnotationOwner, user), "the mutating webhook stamps the owner")
	expectPhase(g, wl, doradev1.WorkloadPhaseRunning, "two replicas of four V100s fit on the GPU nodes")
	pods := workloadPods(g, wl)
	g.Expect(pods).To(HaveLen(2))
	for _, pod := range pods {
		g.Expect(pod.Spec.NodeName).To(HavePrefix(fleet[0].Name+"-"), "pod %s should run on a GPU node", pod.Name)
	}

	g.Expect(asUser.Patch(ctx, wl, client.RawPatch(types.MergePatchType, []byte(`{"spec":{"paused":true}}`)))).To(Succeed())
	expectPhase(g, wl, doradev1.WorkloadPhasePaused, "the user pauses the workload")
	g.Eventually(func(g Gomega) { g.Expect(workloadPods(g, wl)).To(BeEmpty()) }).
		WithTimeout(60*time.Second).Should(Succeed(), "pausing removes the pods")
}

// failover kills the leader's replica (SIGKILL: its lease is not released) and marks its
// endpoint not ready, as the EndpointSlice controller does once the pod is gone. A Workload
// created at once is accepted (the other replica serves the webhooks, with the same
// certificate); the survivor takes the lease once it runs out, and reconciles that Workload.
func (in *installation) failover(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	leaders := in.leaders()
	g.Expect(leaders).To(HaveLen(1))
	var leader *replica
	var survivors []*replica
	for _, r := range in.replicas {
		if r.name == leaders[0] {
			leader = r
		} else {
			survivors = append(survivors, r)
		}
	}
	lease := &coordinationv1.Lease{}
	g.Expect(admin.Get(ctx, client.ObjectKey{Namespace: namespace, Name: "manager.dora.dev"}, lease)).To(Succeed())
	g.Expect(lease.Spec.HolderIdentity).NotTo(BeNil())
	before := *lease.Spec.HolderIdentity

	g.Expect(leader.kill()).To(Succeed())
	g.Expect(leader.setReady(ctx, false)).To(Succeed())
	wl := gpuWorkload(in.workspaceNS, "after-failover", 1, 1)
	g.Expect(admin.Create(ctx, wl)).To(Succeed(), "the surviving replica serves the webhooks while the leader is gone")
	in.userObjects = append(in.userObjects, wl)

	g.Eventually(func(g Gomega) {
		g.Expect(admin.Get(ctx, client.ObjectKeyFromObject(lease), lease)).To(Succeed())
		g.Expect(lease.Spec.HolderIdentity).NotTo(BeNil())
		g.Expect(*lease.Spec.HolderIdentity).NotTo(Equal(before))
		g.Expect(in.leaders()).To(ContainElement(survivors[0].name))
	}).WithTimeout(60*time.Second).Should(Succeed(), "a survivor should take the lease once the killed leader's runs out")
	t.Logf("lease %s: %s, then %s (%s)", lease.Name, before, *lease.Spec.HolderIdentity, survivors[0].name)
	expectPhase(g, wl, doradev1.WorkloadPhaseRunning, "the new leader reconciles the workload created during the failover")
}

// upgrade runs `helm upgrade` from a copy of the chart whose Workload CRD has one more
// printer column: the CRD in the cluster gets it (the chart renders its CRDs as templates).
// The upgrade leaves the manager's certificate alone: the Secret keeps its CA, the webhooks
// keep it injected, and a Workload still passes them.
func (in *installation) upgrade(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	secret := &corev1.Secret{}
	g.Expect(admin.Get(ctx, in.spec.secret, secret)).To(Succeed())
	ca := secret.Data["ca.crt"]

	changed := copyChart(t)
	crdPath := filepath.Join(changed, "files", "crds", "dora.dev_workloads.yaml")
	crd, err := os.ReadFile(crdPath)
	g.Expect(err).NotTo(HaveOccurred())
	const columns = "  - additionalPrinterColumns:\n"
	g.Expect(bytes.Count(crd, []byte(columns))).To(Equal(1), "the Workload CRD has one version with printer columns")
	column := columns + "    - jsonPath: .spec.paused\n      name: Paused\n      type: boolean\n"
	g.Expect(os.WriteFile(crdPath, bytes.Replace(crd, []byte(columns), []byte(column), 1), 0o644)).To(Succeed())

	_, err = helm(t, "upgrade", release, changed, "--namespace", namespace, "--set", "zone="+zone)
	g.Expect(err).NotTo(HaveOccurred(), "helm upgrade should succeed")
	g.Expect(printerColumns(g, "workloads.dora.dev")).To(ContainElement("Paused"), "the upgrade should update the CRD")

	g.Expect(admin.Get(ctx, in.spec.secret, secret)).To(Succeed())
	g.Expect(secret.Data["ca.crt"]).To(Equal(ca), "the upgrade leaves the manager's Secret alone")
	for _, hook := range in.webhooks(g) {
		g.Expect(bytes.Equal(hook.ClientConfig.CABundle, ca)).To(BeTrue(), "the upgrade leaves the injected CA of webhook %s", hook.Name)
	}
	wl := gpuWorkload(in.workspaceNS, "after-upgrade", 1, 1)
	g.Expect(admin.Create(ctx, wl, client.DryRunAll)).To(Succeed(), "a workload passes the webhooks after the upgrade")
}

// uninstall stops the manager and runs `helm uninstall`: the CRDs stay (resource-policy
// keep), and with them the users' objects; no Dora webhook configuration or admission policy
// is left, so with no manager running the API still takes a Workload.
func (in *installation) uninstall(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	in.stopAgents()
	for _, r := range in.replicas {
		g.Expect(r.stop(ctx)).To(Succeed())
	}
	out, err := helm(t, "uninstall", release, "--namespace", namespace)
	g.Expect(err).NotTo(HaveOccurred(), "helm uninstall should succeed")
	g.Expect(out).To(ContainSubstring("kept due to the resource policy"))

	entries, err := os.ReadDir(filepath.Join(chartDir(t), "files", "crds"))
	g.Expect(err).NotTo(HaveOccurred())
	crds := &unstructured.UnstructuredList{}
	crds.SetAPIVersion("apiextensions.k8s.io/v1")
	crds.SetKind("CustomResourceDefinitionList")
	g.Expect(admin.List(ctx, crds)).To(Succeed())
	var kept []string
	for _, crd := range crds.Items {
		if strings.HasSuffix(crd.GetName(), ".dora.dev") && crd.GetDeletionTimestamp() == nil {
			kept = append(kept, crd.GetName())
		}
	}
	g.Expect(kept).To(HaveLen(len(entries)), "every CRD of the chart should be kept")

	for _, obj := range in.userObjects {
		g.Expect(admin.Get(ctx, client.ObjectKeyFromObject(obj), obj)).To(Succeed(), "%T %s should outlive the chart", obj, obj.GetName())
		g.Expect(obj.GetDeletionTimestamp()).To(BeNil(), "%T %s should not be deleted", obj, obj.GetName())
	}

	g.Expect(apierrors.IsNotFound(admin.Get(ctx, client.ObjectKey{Name: in.mutating}, &admissionregistrationv1.MutatingWebhookConfiguration{}))).To(BeTrue())
	g.Expect(apierrors.IsNotFound(admin.Get(ctx, client.ObjectKey{Name: in.validating}, &admissionregistrationv1.ValidatingWebhookConfiguration{}))).To(BeTrue())
	mutating, validating := &admissionregistrationv1.MutatingWebhookConfigurationList{}, &admissionregistrationv1.ValidatingWebhookConfigurationList{}
	g.Expect(admin.List(ctx, mutating)).To(Succeed())
	g.Expect(admin.List(ctx, validating)).To(Succeed())
	for _, c := range mutating.Items {
		for _, hook := range c.Webhooks {
			g.Expect(hook.Name).NotTo(HaveSuffix(".dora.dev"), "configuration %s is left", c.Name)
		}
	}
	for _, c := range validating.Items {
		for _, hook := range c.Webhooks {
			g.Expect(hook.Name).NotTo(HaveSuffix(".dora.dev"), "configuration %s is left", c.Name)
		}
	}
	policies := &admissionregistrationv1.ValidatingAdmissionPolicyList{}
	g.Expect(admin.List(ctx, policies, client.MatchingLabels{"app.kubernetes.io/instance": release})).To(Succeed())
	g.Expect(policies.Items).To(BeEmpty(), "no admission policy of the chart is left")

	wl := gpuWorkload(in.workspaceNS, "after-uninstall", 1, 1)
	g.Expect(admin.Create(ctx, wl)).To(Succeed(), "with the chart gone and no manager running, the API takes a Workload")
}

// teardown stops whatever a failed step left running, and on failure shows the end of each
// replica's log.
func (in *installation) teardown(t *testing.T) {
	ctx := context.Background()
	if in.stopAgents != nil {
		in.stopAgents()
	}
	for _, r := range in.replicas {
		if t.Failed() {
			lines := strings.Split(strings.TrimSpace(r.log()), "\n")
			t.Logf("the last lines of replica %s's log (%s):\n%s", r.name, r.logPath, strings.Join(lines[max(0, len(lines)-40):], "\n"))
		}
		if err := r.stop(ctx); err != nil {
			t.Log(err)
		}
	}
}

// leaders are the replicas that have won the leader election, by name.
func (in *installation) leaders() []string {
	var out []string
	for _, r := range in.replicas {
		if r.running() && r.isLeader() {
			out = append(out, r.name)
		}
	}
	return out
}

// webhooks are the webhooks of both configurations the manager keeps, as clientConfigs.
func (in *installation) webhooks(g Gomega) []namedWebhook {
	mutating := &admissionregistrationv1.MutatingWebhookConfiguration{}
	g.Expect(admin.Get(context.Background(), client.ObjectKey{Name: in.mutating}, mutating)).To(Succeed())
	validating := &admissionregistrationv1.ValidatingWebhookConfiguration{}
	g.Expect(admin.Get(context.Background(), client.ObjectKey{Name: in.validating}, validating)).To(Succeed())
	var out []namedWebhook
	for _, w := range mutating.Webhooks {
		out = append(out, namedWebhook{Name: in.mutating + "/" + w.Name, ClientConfig: w.ClientConfig})
	}
	for _, w := range validating.Webhooks {
		out = append(out, namedWebhook{Name: in.validating + "/" + w.Name, ClientConfig: w.ClientConfig})
	}
	g.Expect(out).NotTo(BeEmpty())
	return out
}

type namedWebhook struct {
	Name         string
	ClientConfig admissionregistrationv1.WebhookClientConfig
}

// callsService matches a webhook's service reference by namespace and name.
func callsService(namespace, name string) OmegaMatcher {
	return WithTransform(func(s admissionregistrationv1.ServiceReference) string { return s.Namespace + "/" + s.Name }, Equal(namespace+"/"+name))
}

// onlyOne is the one object of list's kind in the release's namespace that belongs to the
// release's component.
func onlyOne(g Gomega, list client.ObjectList, component string) client.Object {
	g.Expect(admin.List(context.Background(), list, client.InNamespace(namespace),
		client.MatchingLabels{"app.kubernetes.io/instance": release, "app.kubernetes.io/component": component})).To(Succeed())
	items, err := meta.ExtractList(list)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(items).To(HaveLen(1), "the release should have one %T of component %s", list, component)
	return items[0].(client.Object)
}

// mountedSecret is the Secret the container has mounted at path, or "".
func mountedSecret(pod corev1.PodSpec, container corev1.Container, path string) string {
	for _, m := range container.VolumeMounts {
		if m.MountPath != path {
			continue
		}
		for _, v := range pod.Volumes {
			if v.Name == m.Name && v.Secret != nil {
				return v.Secret.SecretName
			}
		}
	}
	return ""
}

// printerColumns are the names of the printer columns of the CRD's first version.
func printerColumns(g Gomega, name string) []string {
	crd := &unstructured.Unstructured{}
	crd.SetAPIVersion("apiextensions.k8s.io/v1")
	crd.SetKind("CustomResourceDefinition")
	g.Expect(admin.Get(context.Background(), client.ObjectKey{Name: name}, crd)).To(Succeed())
	versions, _, _ := unstructured.NestedSlice(crd.Object, "spec", "versions")
	g.Expect(versions).NotTo(BeEmpty())
	columns, _, _ := unstructured.NestedSlice(versions[0].(map[string]any), "additionalPrinterColumns")
	var out []string
	for _, c := range columns {
		out = append(out, fmt.Sprint(c.(map[string]any)["name"]))
	}
	return out
}

func parseCert(g Gomega, data []byte) *x509.Certificate {
	block, _ := pem.Decode(data)
	g.Expect(block).NotTo(BeNil(), "tls.crt should be a PEM certificate")
	cert, err := x509.ParseCertificate(block.Bytes)
	g.Expect(err).NotTo(HaveOccurred())
	return cert
}

// as is a client acting as the Kubernetes user name, authenticated and in no other group,
// as a researcher's kubeconfig would be.
func as(t *testing.T, name string) client.Client {
	t.Helper()
	cfg := rest.CopyConfig(cluster.Config)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: name, Groups: []string{"system:authenticated"}}
	c, err := client.New(cfg, client.Options{Scheme: manager.Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// gpuWorkload is a workload of replicas pods with gpus GPUs each, of the fleet's model.
func gpuWorkload(namespace, name string, replicas, gpus int32) *doradev1.Workload {
	return &doradev1.Workload{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
		Spec: doradev1.WorkloadSpec{
			Replica: &doradev1.ReplicaSpec{Count: ptr.To(replicas)},
			Image:   doradev1.ImageSpec{Image: "nvcr.io/nvidia/pytorch:24.05-py3"},
			Config:  &doradev1.ContainerConfig{Cmd: doradev1.NewString("python train.py")},
			Selectors: doradev1.Selectors{GPU: &doradev1.GPUSelector{
				Count: ptr.To(intstr.FromInt32(gpus)), ProductName: doradev1.NewList(gpuProduct),
			}},
		},
	}
}

func workloadPods(g Gomega, wl *doradev1.Workload) []corev1.Pod {
	list := &corev1.PodList{}
	g.Expect(admin.List(context.Background(), list, client.InNamespace(wl.Namespace),
		client.MatchingLabels{podspec.LabelWorkload: naming.WorkloadLabelValue(wl.Name)})).To(Succeed())
	return list.Items
}

func expectPhase(g *WithT, wl *doradev1.Workload, phase doradev1.WorkloadPhase, why string) {
	g.Eventually(func(g Gomega) {
		g.Expect(admin.Get(context.Background(), client.ObjectKeyFromObject(wl), wl)).To(Succeed())
		g.Expect(wl.Status.Phase).To(Equal(phase))
		if phase == doradev1.WorkloadPhaseRunning {
			g.Expect(meta.IsStatusConditionTrue(wl.Status.Conditions, doradev1.ConditionReady)).To(BeTrue(), "every replica should be ready")
		}
	}).WithTimeout(60*time.Second).Should(Succeed(), why)
}
