output "resource_id" {
  value = var.resource_id
}
output "name" {
  value = var.name
}
output "size" {
  value = var.size
}
output "replicas" {
  value = var.replicas
}
output "ratio" {
  value = var.ratio
}
output "enabled" {
  value = var.enabled
}
output "labels" {
  value = var.labels
}
output "zones" {
  value = var.zones
}
output "ports" {
  value = var.ports
}
output "network" {
  value = var.network
}
output "pair" {
  value = var.pair
}
output "extra" {
  value = var.extra
}
output "notes" {
  value = var.notes
}
output "strict_flag" {
  value = var.strict_flag
}
output "password_length" {
  value = length(nonsensitive(var.password))
}
output "password" {
  value     = var.password
  sensitive = true
}
output "subnet_id" {
  value = var.subnet_id
}
output "checked_late" {
  value = var.checked_late
}
