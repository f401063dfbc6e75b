variable "name" {
  description = "Stack name, prefix of every resource name."
  type        = string
}

variable "log_group_prefix" {
  description = "CloudWatch log group prefix of the stack, e.g. /caliber/acme/stg."
  type        = string
}

variable "availability_zones" {
  description = "The two zones the subnets spread over."
  type        = list(string)
}

variable "cidr_block" {
  description = "VPC address range; every stack has its own VPC, so they may overlap."
  type        = string
  default     = "10.40.0.0/16"
}

variable "api_port" {
  description = "Port of the API tasks."
  type        = number
}

variable "log_retention_days" {
  description = "Retention of the flow log group."
  type        = number
}
