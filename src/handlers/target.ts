export const handler = async () => ({ todo: 'target' });
