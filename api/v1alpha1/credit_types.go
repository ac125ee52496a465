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

// ZoneCredits is a user's spending in one zone for the current week.
type ZoneCredits struct {
	// zone is the zone.
	// +kubebuilder:validation:MaxLength=63
	// +required
	Zone string `json:"zone"`
	// weekly is the budget for the week.
	// +optional
	Weekly Amount `json:"weekly,omitempty"`
	// used is what the user's workloads have spent this week.
	// +optional
	Used Amount `json:"used,omitempty"`
	// remaining is weekly minus used, never below zero.
	// +optional
	Remaining Amount `json:"remaining,omitempty"`
	// weekStart is when the current week began.
	// +optional
	WeekStart *metav1.Time `json:"weekStart,omitempty"`
	// exhausted is true once the budget is spent; the user's workloads are paused until reset.
	// +optional
	Exhausted bool `json:"exhausted,omitempty"`
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
