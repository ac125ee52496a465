package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Workload classes a node may take.
const (
	CPUWorkload = "CPUWorkload"
	GPUWorkload = "GPUWorkload"
)

// Labels the manager sets on a Kubernetes Node from its Dora Node's spec.allow: "true" when
// the node takes that class of workload, "false" when it does not. Workload pods require the
// label not to be "false", so nodes without it take both classes.
const (
	LabelAllowCPUWorkload = "workload.dora.dev/cpu"
	LabelAllowGPUWorkload = "workload.dora.dev/gpu"
)

// The node agent's heartbeat is a coordination.k8s.io Lease named AgentLeasePrefix + node
// name, in the agent's namespace (the manager is told it with --agent-namespace).
const AgentLeasePrefix = "dora-agent-"

// Node condition types and reasons. The agent and the manager write a Node's status with
// server-side apply under their own field managers, each owning its own conditions.
const (
	// NodeNVMLAvailable (written by the agent) is True when NVML answers on the node.
	NodeNVMLAvailable = "NVMLAvailable"
	// NodeGPUsHealthy (written by the manager) is False while any GPU is unhealthy.
	NodeGPUsHealthy = "GPUsHealthy"

	// ReasonAgentReporting: the agent renews its lease.
	ReasonAgentReporting = "AgentReporting"
	// ReasonAgentLeaseExpired: the agent stopped renewing its lease.
	ReasonAgentLeaseExpired = "AgentLeaseExpired"
	// ReasonAgentNotFound: no agent lease exists for the node.
	ReasonAgentNotFound = "AgentNotFound"
	// ReasonNVMLUnavailable: the NVML library is missing or failed to initialise.
	ReasonNVMLUnavailable = "NVMLUnavailable"
	// ReasonNoGPUs: NVML answers and the node has no GPU.
	ReasonNoGPUs = "NoGPUs"
	// ReasonGPUUnhealthy: at least one GPU reported an error or a critical XID event.
	ReasonGPUUnhealthy = "GPUUnhealthy"
	// ReasonAllGPUsHealthy (GPUsHealthy=True): every GPU the agent reports is healthy.
	ReasonAllGPUsHealthy = "AllGPUsHealthy"
)

// Node event reasons.
const (
	// EventCordoned: the Kubernetes Node was cordoned because spec.schedulingDisabled became true.
	EventCordoned = "Cordoned"
	// EventUncordoned: the Kubernetes Node was uncordoned because spec.schedulingDisabled became false.
	EventUncordoned = "Uncordoned"
	// EventNodeReady: the node's agent reports again.
	EventNodeReady = "NodeReady"
	// EventNodeNotReady: the node's agent stopped reporting.
	EventNodeNotReady = "NodeNotReady"
)

// Field managers for server-side apply of a Node's status.
const (
	FieldManagerAgent   = "dora-node-agent"
	FieldManagerManager = "dora-manager"
)

// NodeSpec says what a node may be used for.
type NodeSpec struct {
	// schedulingDisabled stops new workloads from landing on the node (a cordon).
	// +optional
	SchedulingDisabled bool `json:"schedulingDisabled,omitempty"`

	// endpoint is the node agent's address, kept from Dora; informational.
	// +kubebuilder:validation:MaxLength=2048
	// +optional
	Endpoint string `json:"endpoint,omitempty"`

	// allow lists the workload classes the node takes: CPUWorkload, GPUWorkload.
	// +kubebuilder:validation:MaxItems=2
	// +kubebuilder:validation:items:Enum=CPUWorkload;GPUWorkload
	// +default=["CPUWorkload","GPUWorkload"]
	// +listType=set
	// +optional
	Allow []string `json:"allow,omitempty"`
}

// GPUInfo is one GPU as the node agent reads it through NVML.
type GPUInfo struct {
	// index is the NVML device index, from 0 to 63.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=63
	// +required
	Index int32 `json:"index"`
	// minor is the device minor number (/dev/nvidia<minor>), from 0 to 255.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=255
	// +optional
	Minor int32 `json:"minor,omitempty"`
	// uuid is the GPU's UUID, such as GPU-5fd4a7c2-9b1e-4d0a-8f3b-2c6e1a7d9e04.
	// +kubebuilder:validation:MaxLength=128
	// +required
	UUID string `json:"uuid"`
	// product is the product name as NVML reports it, such as Tesla V100-SXM2-16GB. NVML
	// names are at most 96 bytes.
	// +kubebuilder:validation:MaxLength=96
	// +required
	Product string `json:"product"`
	// memoryTotalMiB is the GPU memory in MiB, at most 1 TiB.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=1048576
	// +optional
	MemoryTotalMiB int64 `json:"memoryTotalMiB,omitempty"`
	// memoryUsedMiB is the GPU memory in use, in MiB, at most 1 TiB.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=1048576
	// +optional
	MemoryUsedMiB int64 `json:"memoryUsedMiB,omitempty"`
	// utilization is the GPU utilisation in percent.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=100
	// +optional
	Utilization int32 `json:"utilization,omitempty"`
	// temperature is the GPU temperature in degrees Celsius, at most 1000.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=1000
	// +optional
	Temperature int32 `json:"temperature,omitempty"`
	// powerWatts is the power draw in watts, at most 100000.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=100000
	// +optional
	PowerWatts int32 `json:"powerWatts,omitempty"`
	// migEnabled is true when MIG mode is on.
	// +optional
	MIGEnabled bool `json:"migEnabled,omitempty"`
	// healthy is false after a critical XID event or an NVML error.
	// +optional
	Healthy bool `json:"healthy,omitempty"`
	// health explains an unhealthy GPU.
	// +kubebuilder:validation:MaxLength=1024
	// +optional
	Health string `json:"health,omitempty"`
	// pod is the namespace/name of the pod holding the GPU, if any.
	// +kubebuilder:validation:MaxLength=317
	// +optional
	Pod string `json:"pod,omitempty"`
}

// CPUInfo is the node's CPU.
type CPUInfo struct {
	// product is the CPU model, such as Intel(R) Xeon(R) Gold 6148 CPU @ 2.40GHz.
	// +kubebuilder:validation:MaxLength=256
	// +optional
	Product string `json:"product,omitempty"`
	// cores is the number of logical cores, at most 65536.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=65536
	// +optional
	Cores int32 `json:"cores,omitempty"`
}

// NodeStatus is a node's inventory, reported by its agent.
type NodeStatus struct {
	// conditions are Ready and others.
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
	// gpus lists every GPU of the node.
	// +listType=map
	// +listMapKey=uuid
	// +kubebuilder:validation:MaxItems=64
	// +optional
	GPUs []GPUInfo `json:"gpus,omitempty"`
	// gpuCount is the number of GPUs, at most 64 (the length of gpus).
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=64
	// +optional
	GPUCount int32 `json:"gpuCount,omitempty"`
	// gpuModels lists the GPU models present, comma separated.
	// +kubebuilder:validation:MaxLength=1024
	// +optional
	GPUModels string `json:"gpuModels,omitempty"`
	// gpuMemoryMiB is the total GPU memory in MiB, at most 64 TiB (64 GPUs of 1 TiB).
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=67108864
	// +optional
	GPUMemoryMiB int64 `json:"gpuMemoryMiB,omitempty"`
	// cpu is the node's CPU.
	// +optional
	CPU *CPUInfo `json:"cpu,omitempty"`
	// memoryMiB is the node's memory in MiB, at most 1 PiB.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=1073741824
	// +optional
	MemoryMiB int64 `json:"memoryMiB,omitempty"`
	// driverVersion is the NVIDIA driver version, such as 550.54.15.
	// +kubebuilder:validation:MaxLength=64
	// +optional
	DriverVersion string `json:"driverVersion,omitempty"`
	// cudaVersion is the CUDA version the driver supports, such as 12.4.
	// +kubebuilder:validation:MaxLength=64
	// +optional
	CUDAVersion string `json:"cudaVersion,omitempty"`
}

// Node is Dora's view of a Kubernetes Node of the same name: which workloads it takes, and
// the hardware its agent found.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,shortName=dn,categories=dora
// +kubebuilder:printcolumn:name="GPUs",type=integer,JSONPath=`.status.gpuCount`
// +kubebuilder:printcolumn:name="Models",type=string,JSONPath=`.status.gpuModels`
// +kubebuilder:printcolumn:name="GPU Memory MiB",type=integer,JSONPath=`.status.gpuMemoryMiB`,priority=1
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Disabled",type=boolean,JSONPath=`.spec.schedulingDisabled`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Node struct {
	metav1.TypeMeta `json:",inline"`
	// metadata is the object's standard metadata: its name, labels and annotations.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec says what the node may be used for.
	// +default={}
	// +optional
	Spec NodeSpec `json:"spec,omitempty,omitzero"`

	// status is the node's inventory.
	// +optional
	Status NodeStatus `json:"status,omitempty"`
}

// NodeList is a list of Nodes.
// +kubebuilder:object:root=true
type NodeList struct {
	metav1.TypeMeta `json:",inline"`
	// +optional
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Node `json:"items"`
}

func init() {
	register(&Node{}, &NodeList{})
}
