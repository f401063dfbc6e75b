# ECS cluster of a stack with its own core (tenants run their service on the
# SaaSShared cluster). Container Insights gives per-service CPU, memory and
# task counts, which the rollout commands and operators read.

variable "name" {
  description = "Cluster name (the stack name)."
  type        = string
}

resource "aws_ecs_cluster" "this" {
  name = var.name

  setting {
    name  = "containerInsights"
    value = "enabled"
  }
}

resource "aws_ecs_cluster_capacity_providers" "this" {
  cluster_name       = aws_ecs_cluster.this.name
  capacity_providers = ["FARGATE"]

  default_capacity_provider_strategy {
    capacity_provider = "FARGATE"
    weight            = 1
  }
}

output "name" {
  value = aws_ecs_cluster.this.name
}

output "arn" {
  value = aws_ecs_cluster.this.arn
}
