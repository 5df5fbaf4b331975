const plugin = {
  async onLoad(ctx) {
    // Register routes DURING onLoad (before server starts)
    ctx.registerRoute({
      method: 'GET',
      url: '/test',
      handler: async (request, reply) => {
        return { success: true, message: 'Hello from plugin!' };
      },
    });
  },
  
  async onEnable(ctx) {
    // Set up WebSocket handlers, cron jobs, etc.
    ctx.onWebSocketMessage('my_plugin_event', async (data) => {
      ctx.logger.info('Received event:', data);
    });
  },
  
  async onDisable(ctx) {
    // Cleanup resources
  },
};

export default plugin;
