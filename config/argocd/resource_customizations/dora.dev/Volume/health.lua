-- Argo CD health check of a Dora Volume (dora.dev/v1alpha1).
-- Argo CD gives a health script the object as `obj` and Lua's base and table libraries,
-- not the string library: this script uses neither string functions nor os.
local hs = {}

local function condition(t)
  if obj.status ~= nil and obj.status.conditions ~= nil then
    for _, c in ipairs(obj.status.conditions) do
      if c.type == t then
        return c
      end
    end
  end
  return nil
end

local function isTrue(c)
  return c ~= nil and c.status == "True"
end

local function message(c, default)
  if c ~= nil and c.message ~= nil and c.message ~= "" then
    return c.message
  end
  return default
end

if obj.status == nil or obj.status.observedGeneration == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the Dora manager to report on the volume"
  return hs
end
if obj.metadata.generation ~= nil and obj.status.observedGeneration ~= obj.metadata.generation then
  hs.status = "Progressing"
  hs.message = "Waiting for the Dora manager to act on generation " .. obj.metadata.generation
  return hs
end

local ready = condition("Ready")
-- A volume being deleted: Argo CD itself says "Pending deletion" before asking this script.
if ready ~= nil and ready.reason == "Deleting" then
  hs.status = "Progressing"
  hs.message = message(ready, "the volume is being deleted")
  return hs
end
if ready ~= nil and ready.reason == "DeleteFailed" then
  hs.status = "Degraded"
  hs.message = message(ready, "removing the volume's data failed")
  return hs
end

-- Stalled: the volume cannot be made without someone changing something.
local stalled = condition("Stalled")
if isTrue(stalled) then
  hs.status = "Degraded"
  hs.message = message(stalled, "the volume is stalled")
  return hs
end
-- Managers that wrote no Stalled condition say the same through Ready's reason.
local failed = { StorageDeleting = true, DirectoryClash = true, DirectoryFailed = true, NameClash = true }
if ready ~= nil and ready.status == "False" and failed[ready.reason] then
  hs.status = "Degraded"
  hs.message = message(ready, ready.reason)
  return hs
end

if isTrue(ready) then
  hs.status = "Healthy"
  hs.message = message(ready, "the volume's claim is bound")
  return hs
end

-- Waiting for its Storage, the Job that makes its directory, or its claim to bind.
hs.status = "Progressing"
hs.message = message(ready, "Waiting for the volume's claim to bind")
return hs
