variable "name" {
  description = "Stack name; the cluster is <name>-docdb."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets of the cluster."
  type        = list(string)
}

variable "security_group_id" {
  description = "Security group admitting the API tasks on 27017."
  type        = string
}

variable "instance_class" {
  type = string
}

variable "instance_count" {
  type = number
}

variable "kms_key_arn" {
  description = "Key encrypting the cluster storage."
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
