package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// CreditRate is a price per unit of time.
type CreditRate struct {
	// hour is the price of one hour of one unit (one GPU of the product), at most
	// 1000000000.
	// +kubebuilder:validation:Maximum=1000000000
	// +required
	Hour Amount `json:"hour"`
}

// CreditPrice is how much a product costs.
type CreditPrice struct {
	// per is the price per unit of time.
	// +required
	Per CreditRate `json:"per"`
}

// ResourceCreditSpec prices a product.
type ResourceCreditSpec struct {
	// product_name is the product priced, a GPU model as NVML names it.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=256
	// +required
	ProductName string `json:"product_name,omitempty"`
	// credit is the price.
	// +required
	Credit CreditPrice `json:"credit"`
	// annotations are free-form notes, such as priceUnit: €: at most 64, each name at most
	// 253 characters and each value at most 4096.
	// +kubebuilder:validation:MaxProperties=64
	// +kubebuilder:validation:XValidation:rule="self.all(k, k.size() <= 253 && self[k].size() <= 4096)",message="annotations names must be at most 253 characters and values at most 4096; keep longer notes elsewhere"
	// +optional
	Annotations map[string]string `json:"annotations,omitempty"`
}

// PriceObservation is a price the manager saw a ResourceCredit ask, and since when.
type PriceObservation struct {
	// since is when the manager first observed this price: it is charged from that second.
	// +required
	Since metav1.Time `json:"since"`
	// perHour is the price of one GPU-hour (or core-hour) in credits, at most 1000000000;
	// absent when the product had no price from since on.
	// +kubebuilder:validation:Maximum=1000000000
	// +optional
	PerHour Amount `json:"perHour,omitempty"`
}

// ResourceCreditStatus is what the manager observed of a ResourceCredit.
type ResourceCreditStatus struct {
	// conditions describe the price.
	// +listType=map
	// +listMapKey=type
	// +kubebuilder:validation:MaxItems=16
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	// observedGeneration is the generation this status describes.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=9007199254740991
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// priceHistory is every price the manager observed, oldest first, the last in force
	// now: the credit controller charges each second at the price in force then. It keeps
	// the last 64 changes.
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=64
	// +optional
	PriceHistory []PriceObservation `json:"priceHistory,omitempty"`
}

// ResourceCredit is the price per hour of a product (a GPU model) in this zone.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,shortName=rc;resourcecredit,categories=dora
// +kubebuilder:printcolumn:name="Product",type=string,JSONPath=`.spec.product_name`
// +kubebuilder:printcolumn:name="Per Hour",type=number,JSONPath=`.spec.credit.per.hour`
// +kubebuilder:printcolumn:name="Unit",type=string,JSONPath=`.spec.annotations.priceUnit`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type ResourceCredit struct {
	metav1.TypeMeta `json:",inline"`
	// metadata is the object's standard metadata: its name, labels and annotations.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is the price.
	// +required
	Spec ResourceCreditSpec `json:"spec,omitzero"`

	// status is what the manager observed.
	// +optional
	Status ResourceCreditStatus `json:"status,omitempty"`
}

// ResourceCreditList is a list of ResourceCredits.
// +kubebuilder:object:root=true
type ResourceCreditList struct {
	metav1.TypeMeta `json:",inline"`
	// +optional
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ResourceCredit `json:"items"`
}

// UserCreditSpec names whose credits these are.
type UserCreditSpec struct {
	// user is the Dora User; defaults to the object's name.
	// +kubebuilder:validation:MaxLength=253
	// +optional
	User string `json:"user,omitempty"`
}

// UserCredit condition types and reasons.
const (
	// CreditsExhausted is True while the week's budget in this zone is spent: the user's
	// workloads in the zone are held until the reset or a larger budget.
	CreditsExhausted = "CreditsExhausted"
	// CreditsLow is True once LowPercent (80%) of the week's budget is spent, with reason
	// CreditsLowReason; past 90% its reason is CreditsVeryLowReason.
	CreditsLow = "CreditsLow"
	// Unpriced is True while pods of the user hold a product no ResourceCredit prices: that
	// time is charged 0.
	Unpriced = "Unpriced"

	// ReasonBudgetSpent (CreditsExhausted True): used reached weekly.
	ReasonBudgetSpent = "BudgetSpent"
	// ReasonBudgetLeft (CreditsExhausted False): some of the budget is left.
	ReasonBudgetLeft = "BudgetLeft"
	// ReasonNoBudget (CreditsExhausted False): the user has no budget in this zone, so the
	// time is metered and not limited.
	ReasonNoBudget = "NoBudget"
	// ReasonBudgetRequired (CreditsExhausted True): the user has no budget in this zone and
	// the manager runs with --credits-require-budget, so it has nothing to spend.
	ReasonBudgetRequired = "BudgetRequired"
	// ReasonWouldExceedBudget (CreditsExhausted True, on a Workload only): the manager runs
	// in safe mode (--credits-safe) and the workload's GPUs x price x run time is more than
	// its owner has left this week, so it does not start.
	ReasonWouldExceedBudget = "WouldExceedBudget"
	// ReasonCreditsLow (CreditsLow True): at least 80% spent.
	ReasonCreditsLow = "EightyPercentSpent"
	// ReasonCreditsVeryLow (CreditsLow True): at least 90% spent.
	ReasonCreditsVeryLow = "NinetyPercentSpent"
	// ReasonCreditsPlenty (CreditsLow False): less than 80% spent.
	ReasonCreditsPlenty = "LessThanEightyPercentSpent"
	// ReasonProductsUnpriced (Unpriced True): the message names the products.
	ReasonProductsUnpriced = "ProductsUnpriced"
	// ReasonAllPriced (Unpriced False).
	ReasonAllPriced = "AllPriced"

	// ReasonPricing (ResourceCredit Ready True): the ResourceCredit prices its product.
	ReasonPricing = "Pricing"
	// ReasonDuplicateProduct (ResourceCredit Ready False): an older ResourceCredit prices the
	// same product and this one is ignored; the message names the one in force.
	ReasonDuplicateProduct = "DuplicateProduct"
	// ReasonInvalidPrice (ResourceCredit Ready False): the price cannot be read.
	ReasonInvalidPrice = "InvalidPrice"
)

// FinalizerCredits keeps a charged pod until the credit controller has closed its running
// time into its owner's ledger.
const FinalizerCredits = "dora.dev/credits"

// ProductCredits is the time and cost of one product.
type ProductCredits struct {
	// product is the product's name, a GPU model as NVML names it.
	// +kubebuilder:validation:MaxLength=256
	// +required
	Product string `json:"product"`
	// gpuHours is the time in GPU-hours (or core-hours), rounded for display.
	// +kubebuilder:validation:Maximum=1000000000000
	// +optional
	GPUHours Amount `json:"gpuHours,omitempty"`
	// credits is what the time cost, rounded for display.
	// +kubebuilder:validation:Maximum=1000000000000000
	// +optional
	Credits Amount `json:"credits,omitempty"`
}

// LedgerEntry is GPU-seconds of one product at one price.
type LedgerEntry struct {
	// product is the product's name.
	// +kubebuilder:validation:MaxLength=256
	// +required
	Product string `json:"product"`
	// perHour is the price of a GPU-hour in credits the time was charged at; absent when the
	// product had no price.
	// +kubebuilder:validation:Maximum=1000000000
	// +optional
	PerHour Amount `json:"perHour,omitempty"`
	// gpuSeconds is the time, in GPU-seconds (GPUs x seconds).
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=9007199254740991
	// +required
	GPUSeconds int64 `json:"gpuSeconds"`
}

// CreditLedger is the current week's charges of the pods that have ended: exact, in
// GPU-seconds; credits are derived from it.
type CreditLedger struct {
	// entries are the GPU-seconds per product and price, sorted by product and price.
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=256
	// +optional
	Entries []LedgerEntry `json:"entries,omitempty"`
	// closed are the UIDs of the pods whose time is in entries, sorted: a pod is never
	// charged twice. A week holds at most 8192 closed pods.
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=8192
	// +kubebuilder:validation:items:MaxLength=64
	// +optional
	Closed []string `json:"closed,omitempty"`
}

// WeekCredits is one past week's spending.
type WeekCredits struct {
	// weekStart is when the week began.
	// +required
	WeekStart metav1.Time `json:"weekStart"`
	// products is the week's time and cost per product.
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=64
	// +optional
	Products []ProductCredits `json:"products,omitempty"`
}

// ZoneCredits is a user's spending in one zone for the current week.
type ZoneCredits struct {
	// zone is the zone.
	// +kubebuilder:validation:MaxLength=63
	// +required
	Zone string `json:"zone"`
	// weekly is the budget for the week; absent when the user has none in this zone (then
	// the time is metered, not limited).
	// +kubebuilder:validation:Maximum=1000000000
	// +optional
	Weekly Amount `json:"weekly,omitempty"`
	// used is what the user's workloads have spent this week up to asOf, rounded for
	// display.
	// +kubebuilder:validation:Maximum=1000000000000000
	// +optional
	Used Amount `json:"used,omitempty"`
	// remaining is weekly minus used at asOf, never below zero, rounded for display.
	// +kubebuilder:validation:Maximum=1000000000
	// +optional
	Remaining Amount `json:"remaining,omitempty"`
	// asOf is when used and remaining were computed: add burnRatePerHour for the time since.
	// +optional
	AsOf *metav1.Time `json:"asOf,omitempty"`
	// burnRatePerHour is the credits an hour the user's running pods spend at asOf.
	// +kubebuilder:validation:Maximum=1000000000000000
	// +optional
	BurnRatePerHour Amount `json:"burnRatePerHour,omitempty"`
	// weekStart is when the current week began.
	// +optional
	WeekStart *metav1.Time `json:"weekStart,omitempty"`
	// nextReset is when the week resets and the budget is whole again.
	// +optional
	NextReset *metav1.Time `json:"nextReset,omitempty"`
	// exhausted is true once the budget is spent; the user's workloads in the zone are held
	// until nextReset or a larger budget.
	// +optional
	Exhausted bool `json:"exhausted,omitempty"`
	// exhaustsAt is when the budget runs out at burnRatePerHour, if before nextReset.
	// +optional
	ExhaustsAt *metav1.Time `json:"exhaustsAt,omitempty"`
	// lowNotified is the highest CreditsLow threshold (80 or 90 percent) announced by an
	// event this week, so that each is announced once.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=100
	// +optional
	LowNotified int32 `json:"lowNotified,omitempty"`
	// products is this week's time and cost per product, up to asOf.
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=64
	// +optional
	Products []ProductCredits `json:"products,omitempty"`
	// ledger is the exact record of the week's ended pods.
	// +optional
	Ledger CreditLedger `json:"ledger,omitempty,omitzero"`
	// history is the last 8 weeks, newest first.
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=8
	// +optional
	History []WeekCredits `json:"history,omitempty"`
}

// UserCreditStatus is a user's spending, written by the credit controller.
type UserCreditStatus struct {
	// conditions describe the credits.
	// +listType=map
	// +listMapKey=type
	// +kubebuilder:validation:MaxItems=16
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	// observedGeneration is the generation this status describes.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=9007199254740991
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// zones is the spending per zone, one entry for each of the user's spec.credits.
	// +listType=map
	// +listMapKey=zone
	// +kubebuilder:validation:MaxItems=64
	// +optional
	Zones []ZoneCredits `json:"zones,omitempty"`
}

// UserCredit is one user's credit spending; the credit controller writes its status.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,shortName=uc;usercredit,categories=dora
// +kubebuilder:printcolumn:name="User",type=string,JSONPath=`.spec.user`
// +kubebuilder:printcolumn:name="Used",type=number,JSONPath=`.status.zones[0].used`
// +kubebuilder:printcolumn:name="Remaining",type=number,JSONPath=`.status.zones[0].remaining`
// +kubebuilder:printcolumn:name="Exhausted",type=boolean,JSONPath=`.status.zones[0].exhausted`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type UserCredit struct {
	metav1.TypeMeta `json:",inline"`
	// metadata is the object's standard metadata: its name, labels and annotations.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec names the user.
	// +optional
	Spec UserCreditSpec `json:"spec,omitempty,omitzero"`

	// status is the spending.
	// +optional
	Status UserCreditStatus `json:"status,omitempty"`
}

// UserCreditList is a list of UserCredits.
// +kubebuilder:object:root=true
type UserCreditList struct {
	metav1.TypeMeta `json:",inline"`
	// +optional
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []UserCredit `json:"items"`
}

func init() {
	register(&ResourceCredit{}, &ResourceCreditList{}, &UserCredit{}, &UserCreditList{})
}
