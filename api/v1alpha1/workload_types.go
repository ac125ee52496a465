package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// Workload condition types.
const (
	// WorkloadProgressing is True while pods are being created, replaced or removed.
	WorkloadProgressing = "Progressing"
	// WorkloadPaused is True while spec.paused holds the workload with no pods.
	WorkloadPaused = "Paused"
	// WorkloadQueued is True while a replica waits for hardware; its message is the
	// scheduler's own reason (for example "0/5 nodes are available: 5 Insufficient nvidia.com/gpu").
	WorkloadQueued = "Queued"
	// WorkloadVolumesReady is False while a mounted volume's claim is missing or unbound.
	WorkloadVolumesReady = "VolumesReady"
	// WorkloadPortsReady is False while a NodePort cannot be had.
	WorkloadPortsReady = "PortsReady"
	// WorkloadPodsAdmitted is False while the API server refuses to create a replica's pod
	// (a ResourceQuota, Pod Security admission, an admission webhook); its message is the
	// API server's own.
	WorkloadPodsAdmitted = "PodsAdmitted"
)

// Workload condition reasons.
const (
	// ReasonAllReplicasReady (Ready=True): every replica runs, or finished as its restart
	// policy allows.
	ReasonAllReplicasReady = "AllReplicasReady"
	// ReasonReplicasNotReady (Ready=False): some replicas do not run yet.
	ReasonReplicasNotReady = "ReplicasNotReady"
	// ReasonScaledToZero (Ready=True): replica.count is 0.
	ReasonScaledToZero = "ScaledToZero"
	// ReasonPaused (Ready True, Paused True): spec.paused holds the workload with no pods, as
	// asked: nothing is left to do.
	ReasonPaused = "Paused"
	// ReasonResumed (Paused=False): the workload runs again.
	ReasonResumed = "Resumed"
	// ReasonCreatingPods (Progressing=True): replicas are being created.
	ReasonCreatingPods = "CreatingPods"
	// ReasonReplacingPods (Progressing=True): outdated replicas are being replaced.
	ReasonReplacingPods = "ReplacingPods"
	// ReasonScalingDown (Progressing=True): surplus replicas are being removed.
	ReasonScalingDown = "ScalingDown"
	// ReasonSettled (Progressing=False): every replica is at the current revision.
	ReasonSettled = "Settled"
	// ReasonUnschedulable (Queued=True): the scheduler found no node; the message is its own.
	ReasonUnschedulable = "Unschedulable"
	// ReasonScheduled (Queued=False): every replica has a node.
	ReasonScheduled = "Scheduled"
	// ReasonVolumesNotReady (VolumesReady=False): a claim is missing or unbound.
	ReasonVolumesNotReady = "VolumesNotReady"
	// ReasonPortUnavailable (PortsReady=False): the API server refused a NodePort.
	ReasonPortUnavailable = "PortUnavailable"
	// ReasonPodsRefused (PodsAdmitted=False, Ready=False): the API server refused a pod; the
	// manager tries again, waiting longer each time, up to 5 minutes.
	ReasonPodsRefused = "PodsRefused"
	// ReasonPodsAccepted (PodsAdmitted=True): no pod was refused.
	ReasonPodsAccepted = "PodsAccepted"
	// ReasonHostNetworkNotAllowed (Ready=False): network.mode host in a workspace that does
	// not allow it.
	ReasonHostNetworkNotAllowed = "HostNetworkNotAllowed"
	// ReasonCompleted (Ready=True): every replica finished successfully.
	ReasonCompleted = "Completed"
	// ReasonFailed (Ready=False): a replica failed and its restart policy keeps it so.
	ReasonFailed = "Failed"
)

// Workload event reasons.
const (
	EventScaleUp   = "ScaleUp"
	EventScaleDown = "ScaleDown"
	EventReplaced  = "Replaced"
	EventRecreated = "Recreated"
	EventPaused    = "Paused"
	EventResumed   = "Resumed"
	// EventPodsRefused is a Warning when the API server starts refusing the workload's pods.
	EventPodsRefused = "PodsRefused"
)

// WorkloadPhase is a one-word summary of a Workload, shown by kubectl get.
// +kubebuilder:validation:Enum=Pending;Queued;Running;Paused;Completed;Failed
type WorkloadPhase string

// Workload phases.
const (
	WorkloadPhasePending   WorkloadPhase = "Pending"
	WorkloadPhaseQueued    WorkloadPhase = "Queued"
	WorkloadPhaseRunning   WorkloadPhase = "Running"
	WorkloadPhasePaused    WorkloadPhase = "Paused"
	WorkloadPhaseCompleted WorkloadPhase = "Completed"
	WorkloadPhaseFailed    WorkloadPhase = "Failed"
)

// WorkloadSpec is what a Workload asks for: which hardware, which image and command, which
// volumes and ports, and how many replicas.
// +kubebuilder:validation:XValidation:rule="!has(self.network) || !has(self.network.ports) || self.network.ports.all(p, !has(p.nodePort) || p.nodePort + (has(self.replica) && has(self.replica.count) ? self.replica.count : 1) <= 65536)",message="network.ports[].nodePort + replica.count - 1 must be at most 65535: replica i listens on nodePort + i; lower the nodePort or the replica count",fieldPath=".network.ports"
type WorkloadSpec struct {
	// replica says how many containers run this workload.
	// +default={}
	// +optional
	Replica *ReplicaSpec `json:"replica,omitempty"`

	// driver is the runtime Dora drives. Docker, the only one accepted, means the node's
	// container runtime.
	// +kubebuilder:validation:Enum=Docker
	// +default="Docker"
	// +optional
	Driver string `json:"driver,omitempty"`

	// notify says who hears about the workload's life.
	// +optional
	Notify *NotifySpec `json:"notify,omitempty"`

	// selectors choose the hardware: GPU model and count, CPU model and count, a node.
	// +optional
	Selectors Selectors `json:"selectors,omitempty,omitzero"`

	// image is the container image to run.
	// +required
	Image ImageSpec `json:"image"`

	// config is how the container runs: command, environment, shared memory, restarts.
	// +default={}
	// +optional
	Config *ContainerConfig `json:"config,omitempty"`

	// volumes are the Dora Volumes mounted into every replica.
	// +listType=map
	// +listMapKey=target
	// +kubebuilder:validation:MaxItems=64
	// +optional
	Volumes []WorkloadVolume `json:"volumes,omitempty"`

	// network is the network mode and the ports opened on the node for ingress.
	// +optional
	Network *NetworkSpec `json:"network,omitempty"`

	// hostname is the hostname of every replica's container, a DNS label. Defaults to the
	// workload name made DNS-safe, followed by the replica index.
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:XValidation:rule="self.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?$')",message="hostname must be a DNS label: lower-case letters, digits and '-', starting and ending with a letter or digit (a name with dots such as blue.red can use blue-red)"
	// +optional
	Hostname string `json:"hostname,omitempty"`

	// paused removes the workload's pods and keeps everything else; set it back to false to
	// resume.
	// +optional
	Paused bool `json:"paused,omitempty"`
}

// ReplicaSpec says how many replicas run.
type ReplicaSpec struct {
	// count is the number of replicas, pods named <workload>-0, <workload>-1, ...
	// 0 scales the workload down to nothing.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=1000
	// +default=1
	// +optional
	Count *int32 `json:"count,omitempty"`
}

// NotifySpec says who hears about a workload.
type NotifySpec struct {
	// byEmail asks for e-mail notifications. It is accepted for compatibility; notifications
	// are Kubernetes events.
	// +optional
	ByEmail bool `json:"byEmail,omitempty"`
}

// Selectors choose the hardware a workload runs on.
type Selectors struct {
	// gpu asks for GPUs: how many per replica and of which model.
	// +optional
	GPU *GPUSelector `json:"gpu,omitempty"`

	// cpu asks for CPU: how many cores per replica and of which model.
	// +optional
	CPU *CPUSelector `json:"cpu,omitempty"`

	// node pins every replica to one node.
	// +optional
	Node *NodeSelector `json:"node,omitempty"`
}

// GPUSelector asks for GPUs.
type GPUSelector struct {
	// product_name is the GPU model: a name as NVML reports it (Tesla V100-SXM2-16GB), a list
	// of names (any of them will do), or All.
	// +kubebuilder:validation:Schemaless
	// +kubebuilder:pruning:PreserveUnknownFields
	// +optional
	ProductName StringOrList `json:"product_name,omitzero"`

	// count is the number of GPUs per replica, a whole number from 0 to 64: 2 or "2".
	// +kubebuilder:validation:XIntOrString
	// +kubebuilder:validation:MaxLength=8
	// +kubebuilder:validation:XValidation:rule="type(self) == int ? self >= 0 && self <= 64 : self.matches('^[0-9]{1,2}$') && int(self) <= 64",message="selectors.gpu.count must be a whole number of GPUs, 0 or more and at most 64 per replica, such as 2; for more GPUs, run more replicas"
	// +optional
	Count *intstr.IntOrString `json:"count,omitempty"`
}

// CPUSelector asks for CPU.
type CPUSelector struct {
	// product_name is the CPU model, a list of models, or All.
	// +kubebuilder:validation:Schemaless
	// +kubebuilder:pruning:PreserveUnknownFields
	// +optional
	ProductName StringOrList `json:"product_name,omitzero"`

	// count is the CPU per replica, from 0 to 1024 cores: whole cores (2 or "2"), a decimal
	// ("0.5") or millicores ("500m").
	// +kubebuilder:validation:XIntOrString
	// +kubebuilder:validation:MaxLength=8
	// +kubebuilder:validation:XValidation:rule="type(self) == int ? self >= 0 && self <= 1024 : (self.matches('^[0-9]{1,4}(\\\\.[0-9]{1,3})?$') ? double(self) <= 1024.0 : self.matches('^[0-9]{1,7}m$') && int(self.substring(0, self.size() - 1)) <= 1024000)",message="selectors.cpu.count must be cores (2, \"0.5\") or millicores (\"500m\"), from 0 to 1024 cores"
	// +optional
	Count *intstr.IntOrString `json:"count,omitempty"`
}

// NodeSelector pins a workload to a node.
type NodeSelector struct {
	// name is the node every replica runs on, or All for any node.
	// +kubebuilder:validation:MaxLength=253
	// +optional
	Name string `json:"name,omitempty"`
}

// ImageSpec is the container image.
// +kubebuilder:validation:XValidation:rule="self.image.size() > 0",message="image.image must name a container image, such as ubuntu or nvcr.io/nvidia/pytorch:24.05-py3",fieldPath=".image"
type ImageSpec struct {
	// image is the image reference, as for docker pull.
	// +kubebuilder:validation:MaxLength=512
	// +required
	Image string `json:"image"`

	// pullPolicy is when the image is pulled: Always, IfNotPresent (default) or Never.
	// +kubebuilder:validation:Enum=Always;IfNotPresent;Never
	// +default="IfNotPresent"
	// +optional
	PullPolicy string `json:"pullPolicy,omitempty"`
}

// Placement values for config.affinity.
const (
	AffinityRandom     = "Random"
	AffinityFirst      = "First"
	AffinityDistribute = "Distribute"
	AffinityFill       = "Fill"
)

// Values of spec.driver and network.mode.
const (
	DriverDocker      = "Docker"
	NetworkModeBridge = "bridge"
	NetworkModeHost   = "host"
)

// Values of config.restartPolicy.
const (
	RestartNever     = "Never"
	RestartAlways    = "Always"
	RestartOnFailure = "OnFailure"
)

// ContainerConfig is how the container runs.
type ContainerConfig struct {
	// cmd replaces the image's CMD (not its ENTRYPOINT), as docker run does: a string, split on
	// whitespace, or a list of arguments.
	// +kubebuilder:validation:Schemaless
	// +kubebuilder:pruning:PreserveUnknownFields
	// +optional
	Cmd StringOrList `json:"cmd,omitzero"`

	// env sets environment variables, each as NAME=value.
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=128
	// +kubebuilder:validation:items:MaxLength=8192
	// +kubebuilder:validation:XValidation:rule="self.all(e, e.matches('^[A-Za-z_][A-Za-z0-9_.-]*=.*$'))",message="config.env entries must look like NAME=value, with NAME made of letters, digits, '_', '.' or '-'"
	// +optional
	Env []string `json:"env,omitempty"`

	// shmSize is the size of /dev/shm in bytes, backed by memory; at most 4 TiB.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=4398046511104
	// +optional
	ShmSize *int64 `json:"shmSize,omitempty"`

	// restartPolicy is what happens when the container exits: Never (default), Always or
	// OnFailure.
	// +kubebuilder:validation:Enum=Never;Always;OnFailure
	// +default="Never"
	// +optional
	RestartPolicy string `json:"restartPolicy,omitempty"`

	// maxRunTime stops the workload's containers after this long: a number and a unit,
	// s, m, h or d, such as 30s, 10m, 2h or 1d.
	// +kubebuilder:validation:MaxLength=16
	// +kubebuilder:validation:XValidation:rule="self.matches('^[1-9][0-9]*(s|m|h|d)$')",message="config.maxRunTime must be a number and a unit s, m, h or d, such as 30s, 10m, 2h or 1d"
	// +optional
	MaxRunTime string `json:"maxRunTime,omitempty"`

	// affinity is how replicas are placed: Random (default) or First leave it to the
	// scheduler, Distribute spreads them over nodes, Fill packs them onto as few as possible.
	// +kubebuilder:validation:Enum=Random;First;Distribute;Fill
	// +default="Random"
	// +optional
	Affinity string `json:"affinity,omitempty"`
}

// WorkloadVolume mounts a Dora Volume into the workload's containers.
// +kubebuilder:validation:XValidation:rule="!has(self.workspace) || !has(self.group) || self.workspace == self.group",message="volumes[].workspace and volumes[].group are two names for the same thing; give one, or the same value in both"
type WorkloadVolume struct {
	// name is the Volume's name.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +required
	Name string `json:"name,omitempty"`

	// target is where the volume appears in the container, an absolute path.
	// +kubebuilder:validation:MaxLength=4096
	// +kubebuilder:validation:XValidation:rule="self.startsWith('/')",message="volumes[].target must be an absolute path inside the container, such as /home"
	// +kubebuilder:validation:XValidation:rule="!self.split('/').exists(p, p == '..')",message="volumes[].target must not contain '..'"
	// +required
	Target string `json:"target"`

	// workspace is the workspace that owns the Volume, when it is not the workload's own
	// (a shared dataset, for example).
	// +kubebuilder:validation:MaxLength=63
	// +optional
	Workspace string `json:"workspace,omitempty"`

	// group is Dora's other name for workspace.
	// +kubebuilder:validation:MaxLength=63
	// +optional
	Group string `json:"group,omitempty"`

	// subpath mounts only this directory of the volume, a relative path.
	// +kubebuilder:validation:MaxLength=4096
	// +kubebuilder:validation:XValidation:rule="!self.startsWith('/') && !self.split('/').exists(p, p == '..')",message="volumes[].subpath must be a relative path inside the volume, without '..'"
	// +optional
	Subpath string `json:"subpath,omitempty"`

	// readOnly mounts the volume read-only even where writing is allowed.
	// +optional
	ReadOnly bool `json:"readOnly,omitempty"`
}

// NetworkSpec is the workload's network.
type NetworkSpec struct {
	// mode is bridge (default: the pod network) or host (the node's network, only where the
	// workspace allows it).
	// +kubebuilder:validation:Enum=bridge;host
	// +default="bridge"
	// +optional
	Mode string `json:"mode,omitempty"`

	// ports are opened on the nodes for ingress; replica i is reachable at nodePort + i.
	// +listType=map
	// +listMapKey=port
	// +kubebuilder:validation:MaxItems=32
	// +optional
	Ports []PortSpec `json:"ports,omitempty"`
}

// PortSpec opens a container port on the nodes.
type PortSpec struct {
	// name names the port.
	// +kubebuilder:validation:MaxLength=63
	// +optional
	Name string `json:"name,omitempty"`

	// kind is how the port is exposed; NodePort is the only kind.
	// +kubebuilder:validation:Enum=NodePort
	// +default="NodePort"
	// +optional
	Kind string `json:"kind,omitempty"`

	// protocol is tcp (default), udp or sctp.
	// +kubebuilder:validation:Enum=tcp;udp;sctp;TCP;UDP;SCTP
	// +default="tcp"
	// +optional
	Protocol string `json:"protocol,omitempty"`

	// port is the port the container listens on.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	// +required
	Port int32 `json:"port,omitempty"`

	// nodePort is the node port for replica 0; replica i gets nodePort + i. Left out, the
	// cluster picks free ports.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	// +optional
	NodePort int32 `json:"nodePort,omitempty"`
}

// WorkloadStatus is what the manager observed of a Workload.
type WorkloadStatus struct {
	// conditions are Ready, Progressing, Paused, Queued, CreditsExhausted, and kstatus's
	// Reconciling and Stalled (True only while they apply).
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

	// phase summarises the workload in one word.
	// +optional
	Phase WorkloadPhase `json:"phase,omitempty"`

	// replicas is the number of replicas that exist.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=1000
	// +optional
	Replicas int32 `json:"replicas,omitempty"`

	// readyReplicas is the number of replicas running and ready.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=1000
	// +optional
	ReadyReplicas int32 `json:"readyReplicas,omitempty"`

	// ready is readyReplicas/desired replicas, as kubectl shows it, such as 2/3.
	// +kubebuilder:validation:MaxLength=32
	// +optional
	Ready string `json:"ready,omitempty"`

	// currentRevision is the pod-template hash of the current spec.
	// +kubebuilder:validation:MaxLength=63
	// +optional
	CurrentRevision string `json:"currentRevision,omitempty"`

	// containers describes each replica: where it runs and in what state.
	// +listType=map
	// +listMapKey=replica
	// +kubebuilder:validation:MaxItems=1000
	// +optional
	Containers []ContainerStatus `json:"containers,omitempty"`
}

// ContainerState is where a replica's container is, as the kubelet says.
// +kubebuilder:validation:Enum=Waiting;Running;Terminated
type ContainerState string

// Container states.
const (
	ContainerWaiting    ContainerState = "Waiting"
	ContainerRunning    ContainerState = "Running"
	ContainerTerminated ContainerState = "Terminated"
)

// ContainerStatus is one replica of a Workload: Dora's Container.
type ContainerStatus struct {
	// replica is the replica index, from 0 to replica.count - 1.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=999
	// +required
	Replica int32 `json:"replica"`

	// name is the pod's name.
	// +kubebuilder:validation:MaxLength=253
	// +optional
	Name string `json:"name,omitempty"`

	// node is the node the replica runs on.
	// +kubebuilder:validation:MaxLength=253
	// +optional
	Node string `json:"node,omitempty"`

	// state is Waiting, Running or Terminated.
	// +optional
	State ContainerState `json:"state,omitempty"`

	// reason says why the replica is in that state.
	// +kubebuilder:validation:MaxLength=1024
	// +optional
	Reason string `json:"reason,omitempty"`

	// message gives details.
	// +kubebuilder:validation:MaxLength=32768
	// +optional
	Message string `json:"message,omitempty"`

	// revision is the pod-template hash the replica was created from.
	// +kubebuilder:validation:MaxLength=63
	// +optional
	Revision string `json:"revision,omitempty"`
}

// Workload is Dora's unit of work: one or more replicas of a container on the hardware it
// selects. Each replica is a pod named <workload>-<index>.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=wk;wks,categories=dora
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.ready`
// +kubebuilder:printcolumn:name="GPUs",type=string,JSONPath=`.spec.selectors.gpu.count`,description="GPUs per replica"
// +kubebuilder:printcolumn:name="Product",type=string,JSONPath=`.spec.selectors.gpu.product_name`
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Image",type=string,JSONPath=`.spec.image.image`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Workload struct {
	metav1.TypeMeta `json:",inline"`
	// metadata is the object's standard metadata: its name, labels and annotations.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is what the workload asks for.
	// +required
	Spec WorkloadSpec `json:"spec"`

	// status is what the manager observed.
	// +optional
	Status WorkloadStatus `json:"status,omitempty"`
}

// ReplicaCount is the number of replicas asked for (1 when left out).
func (w *Workload) ReplicaCount() int32 {
	if w.Spec.Replica == nil || w.Spec.Replica.Count == nil {
		return 1
	}
	return *w.Spec.Replica.Count
}

// WorkloadList is a list of Workloads.
// +kubebuilder:object:root=true
type WorkloadList struct {
	metav1.TypeMeta `json:",inline"`
	// +optional
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Workload `json:"items"`
}

func init() {
	register(&Workload{}, &WorkloadList{})
}
