# Public application load balancer of a stack with its own core. HTTPS only
# (TLS 1.2+, invalid headers dropped); port 80 answers with a permanent
# redirect. The HTTPS listener's default action is a 404: every API service,
# the stack's own and (on SaaSShared) each tenant's, attaches by a host-header
# rule, so a request for an unknown host never reaches a service.

variable "name" {
  description = "Stack name; the load balancer is <name>-alb."
  type        = string
}

variable "subnet_ids" {
  description = "Public subnets."
  type        = list(string)
}

variable "security_group_id" {
  type = string
}

variable "certificate_arn" {
  description = "Validated certificate of the stack's API host name."
  type        = string
}

variable "access_log_bucket" {
  description = "Bucket receiving the access logs (prefix alb/)."
  type        = string
}

variable "deletion_protection" {
  description = "Refuse to delete the load balancer (prod, until 'caliber destroy --force' lifts it)."
  type        = bool
}

resource "aws_lb" "this" {
  name                       = "${var.name}-alb"
  load_balancer_type         = "application"
  internal                   = false
  subnets                    = var.subnet_ids
  security_groups            = [var.security_group_id]
  drop_invalid_header_fields = true
  desync_mitigation_mode     = "defensive"
  idle_timeout               = 60
  enable_http2               = true
  enable_deletion_protection = var.deletion_protection

  access_logs {
    enabled = true
    bucket  = var.access_log_bucket
    prefix  = "alb"
  }
}

resource "aws_lb_listener" "http" {
  load_balancer_arn = aws_lb.this.arn
  port              = 80
  protocol          = "HTTP"

  default_action {
    type = "redirect"

    redirect {
      protocol    = "HTTPS"
      port        = "443"
      status_code = "HTTP_301"
    }
  }
}

resource "aws_lb_listener" "https" {
  load_balancer_arn = aws_lb.this.arn
  port              = 443
  protocol          = "HTTPS"
  ssl_policy        = "ELBSecurityPolicy-TLS13-1-2-2021-06"
  certificate_arn   = var.certificate_arn

  default_action {
    type = "fixed-response"

    fixed_response {
      content_type = "text/plain"
      message_body = "not found"
      status_code  = "404"
    }
  }
}

output "arn" {
  value = aws_lb.this.arn
}

output "dns_name" {
  value = aws_lb.this.dns_name
}

# The load balancer's canonical hosted zone: the zone of an alias record to it.
output "zone_id" {
  value = aws_lb.this.zone_id
}

output "https_listener_arn" {
  value = aws_lb_listener.https.arn
}

output "http_listener_arn" {
  value = aws_lb_listener.http.arn
}
