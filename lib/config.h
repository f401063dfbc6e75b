/*
 * config.h: caliber.conf, the one configuration file.
 *
 * Found at --config FILE, else $CALIBER_CONFIG, else ./caliber.conf, else
 * caliber.conf next to the caliber executable's project root.  INI syntax
 * (parsed with inih): a [caliber] section for the tools and one
 * [env "NAME"] section per environment binding it to a cloud, a region, a
 * domain, a state backend, the API image and sizes.  Relative paths in the
 * file are relative to the file's directory.
 *
 * Ownership: config_load() fills a struct config that owns every string;
 * config_release() frees them.  struct env_config pointers returned by
 * config_env() are borrowed from the config.
 */
#ifndef CALIBER_CONFIG_H
#define CALIBER_CONFIG_H

#include "err.h"

#define CONFIG_MAX_ENVS 16

enum cloud {
	CLOUD_AWS,
	CLOUD_LOCAL,
};

struct env_config {
	char *name;
	enum cloud cloud;
	char *region;
	char *profile;		/* "" for the default credential chain */
	char *domain;
	char *hosted_zone_id;
	char *availability_zones;	/* comma-separated, two entries */
	char *state_backend;	/* "local" or "s3://bucket[/prefix]" */
	char *state_region;	/* region of the state bucket; "" = region */
	char *api_image;
	long api_cpu;
	long api_memory;
	long api_desired_count;
	char *api_health_path;
	long api_container_port;
	char *docdb_instance_class;
	long docdb_instance_count;
	char *rds_instance_class;
	long rds_allocated_storage;
	int rds_multi_az;
};

struct config {
	char *path;		/* the file read, absolute */
	char *dir;		/* its directory: base of relative paths */
	char *terraform;	/* the terraform executable */
	char *plugin_dir;	/* provider mirror for 'terraform init -plugin-dir' */
	char *infra_dir;	/* absolute path of the Terraform configuration */
	char *state_dir;	/* absolute path of caliber's per-stack state */
	struct env_config envs[CONFIG_MAX_ENVS];
	int n_envs;
};

/*
 * Load the configuration.  explicit_path is --config (NULL when not
 * given).  On error, fills e (a usage error when the file is named but
 * missing or invalid) and leaves c empty.
 */
int config_load(struct config *c, const char *explicit_path, struct err *e);
void config_release(struct config *c);

/* The environment named name, or NULL with e saying which ones exist. */
const struct env_config *config_env(const struct config *c, const char *name, struct err *e);

const char *cloud_name(enum cloud cloud);

#endif
