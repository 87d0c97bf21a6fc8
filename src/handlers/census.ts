export const handler = async () => ({ todo: 'census' });
