package e2e

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
)

// What the zone says about prices and about the time nobody is charged for: a GPU model
// without a ResourceCredit is named on the Zone before anybody runs on it; a second
// ResourceCredit for a priced model is ignored and says which one is in force; the GPU pods
// of a workload an administrator made (no owner) are charged to nobody but counted in the
// Zone's status.unowned, and let go once counted.
func TestTheZoneNamesUnpricedModelsAndCountsUnownedTime(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	const (
		zoneName = "dc-rov-01"
		product  = "Quadro RTX 6000"
	)
	zoneCondition := func(g Gomega, typ string) *metav1.Condition {
		z := &doradev1.Zone{}
		g.Expect(k8sClient.Get(ctx, client.ObjectKey{Name: zoneName}, z)).To(Succeed())
		c := meta.FindStatusCondition(z.Status.Conditions, typ)
		g.Expect(c).NotTo(BeNil())
		return c
	}
	g.Eventually(func(g Gomega) {
		c := zoneCondition(g, doradev1.Unpriced)
		g.Expect(c.Status).To(Equal(metav1.ConditionTrue))
		g.Expect(c.Message).To(ContainSubstring(`"` + product + `"`))
	}).WithTimeout(30*time.Second).Should(Succeed(), "the Zone names the Quadro, which nobody prices")

	older := &doradev1.ResourceCredit{ObjectMeta: metav1.ObjectMeta{Name: "quadro"},
		Spec: doradev1.ResourceCreditSpec{ProductName: product, Credit: doradev1.CreditPrice{Per: doradev1.CreditRate{Hour: "3600"}}}}
	g.Expect(k8sClient.Create(ctx, older)).To(Succeed())
	t.Cleanup(func() { _ = k8sClient.Delete(ctx, older) })
	// Created in the same second, the two are ordered by name: quadro is still the older.
	newer := &doradev1.ResourceCredit{ObjectMeta: metav1.ObjectMeta{Name: "quadro-again"},
		Spec: doradev1.ResourceCreditSpec{ProductName: product, Credit: doradev1.CreditPrice{Per: doradev1.CreditRate{Hour: "1"}}}}
	g.Expect(k8sClient.Create(ctx, newer)).To(Succeed())
	t.Cleanup(func() { _ = k8sClient.Delete(ctx, newer) })

	g.Eventually(func(g Gomega) {
		c := zoneCondition(g, doradev1.Unpriced)
		g.Expect(c.Message).NotTo(ContainSubstring(`"` + product + `"`))
	}).WithTimeout(30*time.Second).Should(Succeed(), "once priced, the Quadro is no longer named")

	// An administrator's workload: no owner, so nobody is charged, but the zone counts it.
	ns := workspace(t, "unowned.time")
	wl := gpuWorkload(ns, "admin-job", 1, 2, product)
	g.Expect(k8sClient.Create(ctx, wl)).To(Succeed())
	t.Cleanup(func() { _ = k8sClient.Delete(ctx, wl) })
	g.Expect(wl.Annotations[doradev1.AnnotationOwner]).To(BeEmpty(), "an administrator's workload has no owner")

	g.Eventually(func(g Gomega) {
		for _, rc := range []*doradev1.ResourceCredit{older, newer} {
			g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(rc), rc)).To(Succeed())
		}
		inForce := meta.FindStatusCondition(older.Status.Conditions, doradev1.ConditionReady)
		ignored := meta.FindStatusCondition(newer.Status.Conditions, doradev1.ConditionReady)
		g.Expect(inForce).NotTo(BeNil())
		g.Expect(inForce.Status).To(Equal(metav1.ConditionTrue))
		g.Expect(ignored).NotTo(BeNil())
		g.Expect(ignored.Status).To(Equal(metav1.ConditionFalse))
		g.Expect(ignored.Reason).To(Equal(doradev1.ReasonDuplicateProduct))
		g.Expect(ignored.Message).To(ContainSubstring("ResourceCredit quadro, the older"))
	}).WithTimeout(30*time.Second).Should(Succeed(), "the second ResourceCredit of the Quadro says it is ignored and names the one in force")

	unowned := func(g Gomega) *doradev1.ZoneCredits {
		z := &doradev1.Zone{}
		g.Expect(k8sClient.Get(ctx, client.ObjectKey{Name: zoneName}, z)).To(Succeed())
		g.Expect(z.Status.Unowned).NotTo(BeNil())
		return z.Status.Unowned
	}
	g.Eventually(func(g Gomega) {
		g.Expect(unowned(g).BurnRatePerHour).To(Equal(doradev1.Amount("7200")), "2 Quadros at the older price, 3600 a GPU-hour")
	}).WithTimeout(60*time.Second).Should(Succeed(), "the unowned pod is counted in the zone at the price in force")

	pods := workloadPods(g, wl)
	g.Expect(pods).To(HaveLen(1))
	g.Expect(pods[0].Status.ContainerStatuses).NotTo(BeEmpty())
	g.Expect(pods[0].Status.ContainerStatuses[0].State.Running).NotTo(BeNil())
	started := pods[0].Status.ContainerStatuses[0].State.Running.StartedAt.Time
	// A pod is charged in whole seconds: let it run a few.
	g.Eventually(func() time.Duration { return time.Since(started) }).WithTimeout(10*time.Second).
		Should(BeNumerically(">", 3*time.Second), "the pod runs for some seconds before it goes")
	t.Cleanup(func() {
		if t.Failed() {
			z := &doradev1.Zone{}
			_ = k8sClient.Get(ctx, client.ObjectKey{Name: zoneName}, z)
			t.Logf("Zone status.unowned: %+v", z.Status.Unowned)
			t.Logf("the pod when it ran: %+v", pods[0].Status.ContainerStatuses)
		}
	})
	uid := string(pods[0].UID)
	g.Expect(k8sClient.Delete(ctx, wl)).To(Succeed())
	g.Eventually(func(g Gomega) {
		g.Expect(workloadPods(g, wl)).To(BeEmpty())
		u := unowned(g)
		g.Expect(u.Ledger.Closed).To(ContainElement(uid))
		var seconds int64
		for _, e := range u.Ledger.Entries {
			if e.Product == product {
				seconds += e.GPUSeconds
			}
		}
		g.Expect(seconds).To(BeNumerically(">=", 2*3), "2 GPUs for at least 3 seconds")
		g.Expect(u.Weekly).To(BeEmpty(), "nobody's budget")
	}).WithTimeout(60*time.Second).Should(Succeed(), "the deleted pod is closed into status.unowned and let go")
}
