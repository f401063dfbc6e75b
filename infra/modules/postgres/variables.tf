variable "name" {
  description = "Stack name; the instance is <name>-pg."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets of the instance."
  type        = list(string)
}

variable "security_group_id" {
  description = "Security group admitting the API tasks on 5432."
  type        = string
}

variable "instance_class" {
  type = string
}

variable "allocated_storage" {
  type = number
}

variable "multi_az" {
  type = bool
}

variable "kms_key_arn" {
  description = "Key encrypting storage, Performance Insights and the master secret."
  type        = string
}

variable "deletion_protection" {
  description = "Refuse to delete the database (prod, until 'caliber destroy --force' lifts it)."
  type        = bool
}

variable "production" {
  description = "Deletion protection and a final snapshot on destroy."
  type        = bool
}

variable "log_retention_days" {
  type = number
}
