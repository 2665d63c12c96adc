#include "common/redis_scripts.h"

const char vc_redis_script_create[] =
    "if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end\n"
    "redis.call('HSET', KEYS[1], 'lobby', ARGV[1], 'created', ARGV[2], 'region', ARGV[3])\n"
    "redis.call('EXPIRE', KEYS[1], tonumber(ARGV[4]))\n"
    "return 1\n";

/* Dead zset members are dropped as they surface, so a crashed worker costs
 * one extra step per placement at most once. */
const char vc_redis_script_place[] =
    "if redis.call('EXISTS', KEYS[1]) == 0 then return {'not_found'} end\n"
    "local w = redis.call('HGET', KEYS[1], 'worker')\n"
    "if w then\n"
    "  local url = redis.call('HGET', 'vc:worker:' .. w, 'url')\n"
    "  if url then return {'placed', w, url, redis.call('HGET', KEYS[1], 'lobby') or '1'} end\n"
    "  return {'lost', w}\n"
    "end\n"
    "while true do\n"
    "  local c = redis.call('ZRANGE', KEYS[2], 0, 0)\n"
    "  if #c == 0 then return {'no_worker'} end\n"
    "  local id = c[1]\n"
    "  local url = redis.call('HGET', 'vc:worker:' .. id, 'url')\n"
    "  if url then\n"
    "    redis.call('HSET', KEYS[1], 'worker', id)\n"
    "    redis.call('ZINCRBY', KEYS[2], 1, id)\n"
    "    redis.call('SADD', 'vc:worker_rooms:' .. id, ARGV[1])\n"
    "    return {'placed', id, url, redis.call('HGET', KEYS[1], 'lobby') or '1'}\n"
    "  end\n"
    "  redis.call('ZREM', KEYS[2], id)\n"
    "end\n";

const char vc_redis_script_heartbeat[] =
    "redis.call('HSET', KEYS[1], 'url', ARGV[2], 'region', ARGV[3], 'host', ARGV[4],\n"
    "           'load', ARGV[5], 'pid', ARGV[6])\n"
    "redis.call('EXPIRE', KEYS[1], tonumber(ARGV[7]))\n"
    "redis.call('ZADD', KEYS[2], tonumber(ARGV[5]), ARGV[1])\n"
    "return 1\n";

const char vc_redis_script_release[] = "local r = 0\n"
                                       "if redis.call('HGET', KEYS[1], 'worker') == ARGV[1] then\n"
                                       "  redis.call('HDEL', KEYS[1], 'worker')\n"
                                       "  r = 1\n"
                                       "end\n"
                                       "redis.call('SREM', KEYS[2], ARGV[2])\n"
                                       "return r\n";

const char vc_redis_script_set_lobby[] = "if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end\n"
                                         "redis.call('HSET', KEYS[1], 'lobby', ARGV[1])\n"
                                         "return 1\n";

const char vc_redis_script_end[] = "local w = redis.call('HGET', KEYS[1], 'worker')\n"
                                   "local r = 0\n"
                                   "if not w or w == ARGV[1] then\n"
                                   "  r = redis.call('DEL', KEYS[1])\n"
                                   "end\n"
                                   "redis.call('SREM', KEYS[2], ARGV[2])\n"
                                   "return r\n";
